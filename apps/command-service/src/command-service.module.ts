import { Module, type DynamicModule } from '@nestjs/common';
import { ledgerCatalog } from '@ledger/contract';
import { AuthModule } from '@event-spine/auth';
import { commandsMigrations } from '@event-spine/commands';
import { eventLogMigrations } from '@event-spine/event-log';
import { KafkaModule, KafkaReadinessCheck } from '@event-spine/kafka';
import { HealthModule, LoggingModule, MetricsModule } from '@event-spine/observability';
import { outboxMigrations } from '@event-spine/outbox';
import { DatabaseReadinessCheck, PersistenceModule } from '@event-spine/persistence';
import type { CommandServiceConfig } from './command-service.config';
import { LedgerModule } from './ledger/ledger.module';

export const SERVICE_NAME = 'command-service';

@Module({})
export class CommandServiceModule {
  static forRoot(config: CommandServiceConfig): DynamicModule {
    return {
      module: CommandServiceModule,
      imports: [
        LoggingModule.forRoot({ service: SERVICE_NAME, level: config.LOG_LEVEL, pretty: config.LOG_PRETTY }),
        MetricsModule.forRoot(SERVICE_NAME),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          schema: config.DATABASE_SCHEMA,
          poolSize: config.DATABASE_POOL_SIZE,
          runMigrations: config.DATABASE_RUN_MIGRATIONS,
          applicationName: SERVICE_NAME,
          migrations: [...eventLogMigrations, ...outboxMigrations, ...commandsMigrations],
        }),
        KafkaModule.forRoot({
          brokers: config.KAFKA_BROKERS,
          clientId: `${config.KAFKA_CLIENT_ID}-${SERVICE_NAME}`,
          topics: ledgerCatalog.topics(config.KAFKA_TOPIC_PREFIX),
          partitions: config.KAFKA_TOPIC_PARTITIONS,
          required: false,
        }),
        HealthModule.forRoot([DatabaseReadinessCheck, KafkaReadinessCheck]),
        AuthModule.forRoot(config.JWT_SECRET),
        LedgerModule.forRoot({
          topicPrefix: config.KAFKA_TOPIC_PREFIX,
          databaseSchema: config.DATABASE_SCHEMA,
        }),
      ],
    };
  }
}
