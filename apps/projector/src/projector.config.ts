import { commonConfig, databaseConfig, kafkaConfig, port, str, type ConfigOf } from '@spine/config';

export const projectorConfig = {
  ...commonConfig,
  HTTP_HOST: str('interface the HTTP server binds to', { default: '127.0.0.1' }),
  HTTP_PORT: port('HTTP port of the read and admin API', 3001),
  ...databaseConfig,
  ...kafkaConfig,
  JWT_SECRET: str('HS256 secret that signs bearer tokens (at least 32 characters)', { minLength: 32, secret: true }),
} as const;

export type ProjectorConfig = ConfigOf<typeof projectorConfig>;
