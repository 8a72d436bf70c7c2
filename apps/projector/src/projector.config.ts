import { commonConfig, databaseConfig, int, kafkaConfig, port, str, type ConfigOf } from '@event-spine/config';

export const projectorConfig = {
  ...commonConfig,
  HTTP_HOST: str('interface the HTTP server binds to', { default: '127.0.0.1' }),
  HTTP_PORT: port('HTTP port of the read and admin API', 3001),
  ...databaseConfig,
  ...kafkaConfig,
  JWT_SECRET: str('HS256 secret that signs bearer tokens (at least 32 characters)', { minLength: 32, secret: true }),
  PROJECTOR_GROUP_ID: str('Kafka consumer group of the projector (prefixed with KAFKA_TOPIC_PREFIX)', {
    default: 'spine-projector',
  }),
  PROJECTOR_SESSION_TIMEOUT_MS: int('Kafka session timeout: how fast a dead instance’s partitions move', {
    default: 10000,
    min: 1000,
  }),
  PROJECTOR_PARTITIONS_CONCURRENTLY: int(
    'partitions one instance applies at the same time (each in its own transaction)',
    { default: 3, min: 1, max: 16 },
  ),
  COMMAND_SERVICE_URL: str('command service base URL, to repair sequence gaps from its event log (empty: park them)', {
    default: '',
    pattern: /^(https?:\/\/[^\s]+)?$/,
  }),
  READ_MAX_WAIT_MS: int('longest read-your-writes wait (waitMs) a read may ask for', { default: 10000, min: 0 }),
} as const;

export type ProjectorConfig = ConfigOf<typeof projectorConfig>;
