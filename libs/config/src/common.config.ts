import { bool, hostPorts, int, oneOf, str, url } from './config';

/** Variables every service reads. */
export const commonConfig = {
  NODE_ENV: oneOf('runtime environment', ['development', 'test', 'production'], 'development'),
  LOG_LEVEL: oneOf('log level', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  LOG_PRETTY: bool('human-readable logs instead of JSON lines (development only)', false),
  SHUTDOWN_TIMEOUT_MS: int('how long graceful shutdown may take before the process exits with an error', {
    default: 15000,
    min: 100,
  }),
  HTTP_BODY_LIMIT_BYTES: int('largest accepted HTTP request body', { default: 65536, min: 1024 }),
  METRICS_TOP_TENANTS: int('tenants that per-tenant metrics name; the others are summed as "other"', {
    default: 10,
    min: 0,
    max: 100,
  }),
} as const;

export const databaseConfig = {
  DATABASE_URL: url('PostgreSQL connection URL of the service’s own database', {
    protocols: ['postgres', 'postgresql'],
  }),
  DATABASE_SCHEMA: str('PostgreSQL schema holding the service’s tables (tests use one schema per suite)', {
    default: 'public',
    pattern: /^[a-z_][a-z0-9_]{0,62}$/,
  }),
  DATABASE_POOL_SIZE: int('connections in the service’s PostgreSQL pool', { default: 8, min: 1, max: 200 }),
  DATABASE_RUN_MIGRATIONS: bool('apply pending migrations at start-up (under an advisory lock)', true),
} as const;

export const kafkaConfig = {
  KAFKA_BROKERS: hostPorts('Kafka bootstrap brokers, comma-separated host:port (use 127.0.0.1, not localhost)'),
  KAFKA_CLIENT_ID: str('Kafka client id prefix', { default: 'event-spine' }),
  KAFKA_TOPIC_PREFIX: str('prefix added to every topic name (isolates test runs; empty in production)', {
    default: '',
    pattern: /^[A-Za-z0-9._-]*$/,
  }),
  KAFKA_TOPIC_PARTITIONS: int('partitions of topics the service creates when missing', {
    default: 6,
    min: 1,
    max: 1000,
  }),
} as const;
