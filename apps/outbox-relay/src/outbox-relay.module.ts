import { Module, type DynamicModule } from '@nestjs/common';
import { ledgerCatalog } from '@ledger/contract';
import { relayServiceModules } from '@event-spine/platform';
import type { OutboxRelayConfig } from './outbox-relay.config';

export const SERVICE_NAME = 'outbox-relay';

/** The ledger's relay: the platform's relay over the command service's outbox; it creates the ledger's topics. */
@Module({})
export class LedgerOutboxRelayModule {
  static forRoot(config: OutboxRelayConfig): DynamicModule {
    return {
      module: LedgerOutboxRelayModule,
      imports: relayServiceModules({ service: SERVICE_NAME, catalog: ledgerCatalog, config }),
    };
  }
}
