import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import type { ConfigOf } from '@event-spine/config';
import { relayServiceConfig, relayServiceModules, runService } from '@event-spine/platform';
import { consentsCatalog } from '../contract';

const SERVICE_NAME = 'consents-outbox-relay';
const config = relayServiceConfig({ httpPort: 3102 });

/** The relay of the consents command service's outbox; it creates the domain's topics before publishing to them. */
@Module({})
class ConsentsRelayModule {
  static forRoot(c: ConfigOf<typeof config>): DynamicModule {
    return {
      module: ConsentsRelayModule,
      imports: relayServiceModules({ service: SERVICE_NAME, catalog: consentsCatalog, config: c }),
    };
  }
}

runService({ name: SERVICE_NAME, config, module: (c) => ConsentsRelayModule.forRoot(c) });
