import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { AuthModule, authOptions, type AuthConfig } from '@event-spine/auth';
import type { ConfigOf } from '@event-spine/config';
import { KafkaModule, KafkaReadinessCheck } from '@event-spine/kafka';
import { HealthModule, LoggingModule, MetricsModule, type ReadinessCheck } from '@event-spine/observability';
import { DatabaseReadinessCheck, PersistenceModule, type DatabaseSettings } from '@event-spine/persistence';
import type { serviceConfig } from './service.config';

export interface PlatformOptions {
  /** The service's name in logs, metrics and database connections. */
  service: string;
  config: ConfigOf<typeof serviceConfig> & { JWT_SECRET?: string } & Partial<AuthConfig>;
  /** The migrations of the tables this service owns (each module exports its own); none for a relay. */
  migrations?: DatabaseSettings['migrations'];
  /** Topics created at start-up when missing: every subject type of the domain's catalog. */
  topics?: string[];
  /** Whether the service needs Kafka to do its work (readiness waits for it) or only uses it when it answers. */
  kafkaRequired: boolean;
  /** Readiness checks besides the database's and Kafka's (each module exports its own). */
  readiness?: Type<ReadinessCheck>[];
}

/**
 * What every Event Spine service runs on, in one import: JSON logs, Prometheus metrics, its PostgreSQL schema with
 * migrations applied at start-up, Kafka with the domain's topics, `/health/live` and `/health/ready`, and bearer-token
 * authentication when the service has a JWT secret (HS256, and an identity provider's tokens with AUTH_JWKS_*).
 */
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const { config, service } = options;
    return {
      module: PlatformModule,
      imports: [
        LoggingModule.forRoot({ service, level: config.LOG_LEVEL, pretty: config.LOG_PRETTY }),
        MetricsModule.forRoot(service, { topTenants: config.METRICS_TOP_TENANTS }),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          schema: config.DATABASE_SCHEMA,
          poolSize: config.DATABASE_POOL_SIZE,
          runMigrations: config.DATABASE_RUN_MIGRATIONS,
          applicationName: service,
          migrations: options.migrations,
        }),
        KafkaModule.forRoot({
          brokers: config.KAFKA_BROKERS,
          clientId: `${config.KAFKA_CLIENT_ID}-${service}`,
          topics: options.topics ?? [],
          partitions: config.KAFKA_TOPIC_PARTITIONS,
          required: options.kafkaRequired,
        }),
        HealthModule.forRoot([DatabaseReadinessCheck, KafkaReadinessCheck, ...(options.readiness ?? [])]),
        ...(config.JWT_SECRET ? [AuthModule.forRoot(authOptions(config, config.JWT_SECRET))] : []),
      ],
    };
  }
}
