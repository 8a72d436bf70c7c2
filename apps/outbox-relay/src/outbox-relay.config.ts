import { bool, commonConfig, databaseConfig, kafkaConfig, port, str, type ConfigOf } from '@spine/config';

export const outboxRelayConfig = {
  ...commonConfig,
  HTTP_HOST: str('interface the HTTP server (health, metrics) binds to', { default: '127.0.0.1' }),
  HTTP_PORT: port('HTTP port for health and metrics', 3002),
  ...databaseConfig,
  // The command service owns the schema of its database; the relay only reads and marks its outbox.
  DATABASE_RUN_MIGRATIONS: bool('apply pending migrations at start-up (the command service owns them)', false),
  ...kafkaConfig,
} as const;

export type OutboxRelayConfig = ConfigOf<typeof outboxRelayConfig>;
