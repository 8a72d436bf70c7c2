import { Module, type DynamicModule } from '@nestjs/common';
import { ledgerCatalog } from '@ledger/contract';
import { KafkaModule, KafkaReadinessCheck } from '@event-spine/kafka';
import { HealthModule, LoggingModule, MetricsModule } from '@event-spine/observability';
import { DatabaseReadinessCheck, PersistenceModule } from '@event-spine/persistence';
import type { OutboxRelayConfig } from './outbox-relay.config';
import { OutboxReadinessCheck } from './relay/outbox-readiness.check';
import { RELAY_CONFIG, RelayService } from './relay/relay.service';

export const SERVICE_NAME = 'outbox-relay';

@Module({})
export class OutboxRelayModule {
  static forRoot(config: OutboxRelayConfig): DynamicModule {
    return {
      module: OutboxRelayModule,
      imports: [
        LoggingModule.forRoot({ service: SERVICE_NAME, level: config.LOG_LEVEL, pretty: config.LOG_PRETTY }),
        MetricsModule.forRoot(SERVICE_NAME),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          schema: config.DATABASE_SCHEMA,
          poolSize: config.DATABASE_POOL_SIZE,
          runMigrations: config.DATABASE_RUN_MIGRATIONS,
          applicationName: SERVICE_NAME,
        }),
        KafkaModule.forRoot({
          brokers: config.KAFKA_BROKERS,
          clientId: `${config.KAFKA_CLIENT_ID}-${SERVICE_NAME}`,
          topics: ledgerCatalog.topics(config.KAFKA_TOPIC_PREFIX),
          partitions: config.KAFKA_TOPIC_PARTITIONS,
          required: true,
        }),
        HealthModule.forRoot([DatabaseReadinessCheck, KafkaReadinessCheck, OutboxReadinessCheck]),
      ],
      providers: [{ provide: RELAY_CONFIG, useValue: config }, RelayService],
    };
  }
}
