import { Module, type DynamicModule } from '@nestjs/common';
import { ledgerCatalog } from '@ledger/contract';
import { KafkaModule, KafkaReadinessCheck } from '@spine/kafka';
import { HealthModule, LoggingModule, MetricsModule } from '@spine/observability';
import { DatabaseReadinessCheck, PersistenceModule } from '@spine/persistence';
import { CommandState1763800000200 } from '@spine/commands';
import { EventLog1763800000000 } from '@spine/event-log';
import { Outbox1763800000100 } from '@spine/outbox';
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
          migrations: [EventLog1763800000000, Outbox1763800000100, CommandState1763800000200],
        }),
        KafkaModule.forRoot({
          brokers: config.KAFKA_BROKERS,
          clientId: `${config.KAFKA_CLIENT_ID}-${SERVICE_NAME}`,
          topics: ledgerCatalog.topics(config.KAFKA_TOPIC_PREFIX),
          partitions: config.KAFKA_TOPIC_PARTITIONS,
          required: false,
        }),
        HealthModule.forRoot([DatabaseReadinessCheck, KafkaReadinessCheck]),
        LedgerModule.forRoot({
          jwtSecret: config.JWT_SECRET,
          topicPrefix: config.KAFKA_TOPIC_PREFIX,
          databaseSchema: config.DATABASE_SCHEMA,
        }),
      ],
    };
  }
}
