import { Module, type DynamicModule } from '@nestjs/common';
import { ledgerCatalog } from '@ledger/contract';
import { commandsMigrations } from '@event-spine/commands';
import { eventLogMigrations } from '@event-spine/event-log';
import { outboxMigrations } from '@event-spine/outbox';
import { PlatformModule } from '@event-spine/platform';
import type { CommandServiceConfig } from './command-service.config';
import { LedgerModule } from './ledger/ledger.module';

export const SERVICE_NAME = 'command-service';

@Module({})
export class CommandServiceModule {
  static forRoot(config: CommandServiceConfig): DynamicModule {
    return {
      module: CommandServiceModule,
      imports: [
        PlatformModule.forRoot({
          service: SERVICE_NAME,
          config,
          migrations: [...eventLogMigrations, ...outboxMigrations, ...commandsMigrations],
          topics: ledgerCatalog.topics(config.KAFKA_TOPIC_PREFIX),
          // Commands keep succeeding while the broker is down: the outbox holds them.
          kafkaRequired: false,
        }),
        LedgerModule.forRoot({
          topicPrefix: config.KAFKA_TOPIC_PREFIX,
          databaseSchema: config.DATABASE_SCHEMA,
          rateLimit: { perSecond: config.RATE_LIMIT_COMMANDS_PER_SECOND, burst: config.RATE_LIMIT_BURST },
          grouping: { maxCommands: config.COMMAND_GROUP_MAX, transactions: config.COMMAND_GROUP_TRANSACTIONS },
        }),
      ],
    };
  }
}
