import { authConfig } from '@event-spine/auth';
import { commonConfig, databaseConfig, int, kafkaConfig, oneOf, port, str } from '@event-spine/config';
import { auditConfig } from '@event-spine/event-log';
import { KAFKA_CLIENTS } from '@event-spine/kafka';
import { relayConfig } from '@event-spine/relay';

const jwtSecret = str('HS256 secret that signs bearer tokens (at least 32 characters)', {
  minLength: 32,
  secret: true,
});

/** Variables of every service: logs, shutdown, body limit, its database and Kafka. */
export const serviceConfig = { ...commonConfig, ...databaseConfig, ...kafkaConfig } as const;

/** A command service's variables; `httpPort` is its default (each domain's service has its own). */
export function commandServiceConfig(defaults: { httpPort: number }) {
  return {
    ...commonConfig,
    HTTP_HOST: str('interface the HTTP server binds to', { default: '127.0.0.1' }),
    HTTP_PORT: port('HTTP port of the command API', defaults.httpPort),
    ...databaseConfig,
    ...kafkaConfig,
    JWT_SECRET: jwtSecret,
    ...authConfig,
    RATE_LIMIT_COMMANDS_PER_SECOND: int('commands per second each tenant may send (token bucket; 0: no limit)', {
      default: 0,
      min: 0,
      max: 1_000_000,
    }),
    RATE_LIMIT_BURST: int('commands a tenant may send at once on top of its rate', { default: 100, min: 1 }),
    COMMAND_GROUP_MAX: int(
      'group commit: concurrent commands of a tenant on different subjects that may share one transaction (1: each has its own)',
      { default: 16, min: 1, max: 1000 },
    ),
    COMMAND_GROUP_TRANSACTIONS: int('group commit: transactions of command groups running at once (at most the pool)', {
      default: 2,
      min: 1,
      max: 200,
    }),
    ...auditConfig,
  } as const;
}

/** The variables of a command service that also serves its commands over gRPC. */
export function grpcConfig(defaults: { grpcPort: number }) {
  return {
    GRPC_HOST: str('interface the gRPC server binds to', { default: '127.0.0.1' }),
    GRPC_PORT: port('gRPC port of the command API', defaults.grpcPort),
  } as const;
}

/** A relay's variables: health and metrics over HTTP, the command service's database, Kafka and the relay's own. */
export function relayServiceConfig(defaults: { httpPort: number }) {
  return {
    ...commonConfig,
    HTTP_HOST: str('interface the HTTP server (health, metrics) binds to', { default: '127.0.0.1' }),
    HTTP_PORT: port('HTTP port for health and metrics', defaults.httpPort),
    ...databaseConfig,
    ...kafkaConfig,
    ...relayConfig,
  } as const;
}

/** A projector's variables: its read and admin API, its own database, Kafka, the consumer and gap repair. */
export function projectorServiceConfig(defaults: { httpPort: number; groupId: string }) {
  return {
    ...commonConfig,
    HTTP_HOST: str('interface the HTTP server binds to', { default: '127.0.0.1' }),
    HTTP_PORT: port('HTTP port of the read and admin API', defaults.httpPort),
    ...databaseConfig,
    ...kafkaConfig,
    JWT_SECRET: jwtSecret,
    ...authConfig,
    PROJECTOR_GROUP_ID: str('Kafka consumer group of the projector (prefixed with KAFKA_TOPIC_PREFIX)', {
      default: defaults.groupId,
    }),
    PROJECTOR_KAFKA_CLIENT: oneOf(
      'Kafka client library the projector and its replays consume with (every instance of a group must use the same)',
      KAFKA_CLIENTS,
      'platformatic',
    ),
    PROJECTOR_SESSION_TIMEOUT_MS: int('Kafka session timeout: how fast a dead instance’s partitions move', {
      default: 10000,
      min: 1000,
    }),
    PROJECTOR_PARTITIONS_CONCURRENTLY: int(
      'partitions one instance applies at the same time (each in its own transaction), live and in a replay’s shadow',
      { default: 3, min: 1, max: 16 },
    ),
    COMMAND_SERVICE_URL: str(
      'command service base URL: sequence gaps are repaired from its event log (empty: parked), and sealed personal ' +
        'fields opened through it unless PERSONAL_DATA_KEYS_DATABASE_URL is set (empty as well: applied as null)',
      { default: '', pattern: /^(https?:\/\/[^\s]+)?$/ },
    ),
    PERSONAL_DATA_KEYS_DATABASE_URL: str(
      'the command database, to open sealed personal fields with its data_subject_keys (SELECT on that table is ' +
        'enough); empty: ask the command service at COMMAND_SERVICE_URL per batch',
      { default: '', pattern: /^(postgres(ql)?:\/\/[^\s]+)?$/ },
    ),
    PERSONAL_DATA_KEYS_DATABASE_SCHEMA: str('schema of data_subject_keys in that database', {
      default: 'public',
      pattern: /^[a-z_][a-z0-9_]{0,62}$/,
    }),
    READ_MAX_WAIT_MS: int('longest read-your-writes wait (waitMs) a read may ask for', { default: 10000, min: 0 }),
  } as const;
}
