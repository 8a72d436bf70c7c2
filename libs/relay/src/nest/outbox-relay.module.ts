import { Module, type DynamicModule } from '@nestjs/common';
import { RELAY_CONFIG, type RelayModuleConfig } from './relay.config';
import { RelayService } from './relay.service';

/**
 * A relay for one database's outbox in one import: it publishes whatever topic each row names, so it serves every
 * domain whose command service writes to that outbox. The application provides persistence (the command service's
 * database, not migrated here), Kafka, metrics and health; `OutboxReadinessCheck` belongs in its readiness checks.
 */
@Module({})
export class OutboxRelayModule {
  static forRoot(config: RelayModuleConfig): DynamicModule {
    return {
      module: OutboxRelayModule,
      providers: [{ provide: RELAY_CONFIG, useValue: config }, RelayService],
      exports: [RelayService],
    };
  }
}
