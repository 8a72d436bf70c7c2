import { Module, type DynamicModule } from '@nestjs/common';
import { ledgerCatalog } from '@ledger/contract';
import { PlatformModule } from '@event-spine/platform';
import { OutboxReadinessCheck, OutboxRelayModule } from '@event-spine/relay';
import type { OutboxRelayConfig } from './outbox-relay.config';

export const SERVICE_NAME = 'outbox-relay';

/** The ledger's relay: the platform's relay over the command service's outbox; it creates the ledger's topics. */
@Module({})
export class LedgerOutboxRelayModule {
  static forRoot(config: OutboxRelayConfig): DynamicModule {
    return {
      module: LedgerOutboxRelayModule,
      imports: [
        PlatformModule.forRoot({
          service: SERVICE_NAME,
          config,
          topics: ledgerCatalog.topics(config.KAFKA_TOPIC_PREFIX),
          kafkaRequired: true,
          readiness: [OutboxReadinessCheck],
        }),
        OutboxRelayModule.forRoot(config),
      ],
    };
  }
}
