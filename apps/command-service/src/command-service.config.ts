import { commonConfig, databaseConfig, kafkaConfig, port, str, type ConfigOf } from '@event-spine/config';

export const commandServiceConfig = {
  ...commonConfig,
  HTTP_HOST: str('interface the HTTP server binds to', { default: '127.0.0.1' }),
  HTTP_PORT: port('HTTP port of the command API', 3000),
  GRPC_HOST: str('interface the gRPC server binds to', { default: '127.0.0.1' }),
  GRPC_PORT: port('gRPC port of the command API', 50051),
  ...databaseConfig,
  ...kafkaConfig,
  JWT_SECRET: str('HS256 secret that signs bearer tokens (at least 32 characters)', { minLength: 32, secret: true }),
} as const;

export type CommandServiceConfig = ConfigOf<typeof commandServiceConfig>;
