import 'reflect-metadata';
import { runService } from '@event-spine/platform';
import { outboxRelayConfig } from './outbox-relay.config';
import { LedgerOutboxRelayModule, SERVICE_NAME } from './outbox-relay.module';

runService({
  name: SERVICE_NAME,
  config: outboxRelayConfig,
  module: (config) => LedgerOutboxRelayModule.forRoot(config),
});
