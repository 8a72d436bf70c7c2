import { Logger, type DynamicModule } from '@nestjs/common';
import { Pool } from 'pg';
import { CommandsModule, commandsMigrations, type DomainModel } from '@event-spine/commands';
import type { ConfigOf } from '@event-spine/config';
import { EventLogHttpModule, eventLogMigrations, keysTableOpener } from '@event-spine/event-log';
import type { EventCatalog } from '@event-spine/events';
import { outboxMigrations } from '@event-spine/outbox';
import { rowsOf, surviveDatabaseRestarts } from '@event-spine/persistence';
import type { MigrationInterface } from 'typeorm';
import {
  eventLogCausality,
  eventLogRepair,
  personalDataOpener,
  PositionsReadinessCheck,
  ProjectionsModule,
  projectionsMigrations,
  type PersonalDataOpener,
  type Projection,
} from '@event-spine/projections';
import { OutboxReadinessCheck, OutboxRelayModule } from '@event-spine/relay';
import { eventLogFeedReader, ReplayModule, replayMigrations } from '@event-spine/replay';
import { PlatformModule } from './platform.module';
import type { commandServiceConfig, projectorServiceConfig, relayServiceConfig } from './service.config';

/**
 * The modules of each kind of service for one domain, so a domain's module lists only its own controllers. They are
 * the same modules a team can import one by one when it needs something else.
 */

export function commandServiceModules(options: {
  service: string;
  catalog: EventCatalog;
  model: DomainModel;
  config: ConfigOf<ReturnType<typeof commandServiceConfig>>;
}): DynamicModule[] {
  const { config, catalog } = options;
  return [
    PlatformModule.forRoot({
      service: options.service,
      config,
      migrations: [...eventLogMigrations, ...outboxMigrations, ...commandsMigrations],
      topics: catalog.topics(config.KAFKA_TOPIC_PREFIX),
      // Commands keep succeeding while the broker is down: the outbox holds them.
      kafkaRequired: false,
    }),
    CommandsModule.forRoot({
      catalog,
      model: options.model,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      databaseSchema: config.DATABASE_SCHEMA,
      rateLimit: { perSecond: config.RATE_LIMIT_COMMANDS_PER_SECOND, burst: config.RATE_LIMIT_BURST },
      grouping: { maxCommands: config.COMMAND_GROUP_MAX, transactions: config.COMMAND_GROUP_TRANSACTIONS },
    }),
    EventLogHttpModule.forRoot({ catalog }),
  ];
}

export function relayServiceModules(options: {
  service: string;
  catalog: EventCatalog;
  config: ConfigOf<ReturnType<typeof relayServiceConfig>>;
}): DynamicModule[] {
  const { config } = options;
  return [
    PlatformModule.forRoot({
      service: options.service,
      config,
      topics: options.catalog.topics(config.KAFKA_TOPIC_PREFIX),
      kafkaRequired: true,
      readiness: [OutboxReadinessCheck],
    }),
    OutboxRelayModule.forRoot(config),
  ];
}

export function projectorServiceModules(options: {
  service: string;
  catalog: EventCatalog;
  projections: readonly Projection[];
  /** The migrations of the projections' tables. */
  readModelMigrations: readonly (new () => MigrationInterface)[];
  config: ConfigOf<ReturnType<typeof projectorServiceConfig>>;
}): DynamicModule[] {
  const { config, catalog } = options;
  const eventLog = config.COMMAND_SERVICE_URL.replace(/\/$/, '');
  return [
    PlatformModule.forRoot({
      service: options.service,
      config,
      migrations: [...projectionsMigrations, ...options.readModelMigrations, ...replayMigrations],
      topics: catalog.topics(config.KAFKA_TOPIC_PREFIX),
      kafkaRequired: true,
      readiness: [PositionsReadinessCheck],
    }),
    ProjectionsModule.forRoot({
      catalog,
      projections: options.projections,
      databaseUrl: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      groupId: config.PROJECTOR_GROUP_ID,
      partitionsConcurrently: config.PROJECTOR_PARTITIONS_CONCURRENTLY,
      kafkaClient: config.PROJECTOR_KAFKA_CLIENT,
      sessionTimeoutMs: config.PROJECTOR_SESSION_TIMEOUT_MS,
      repair: eventLog ? eventLogRepair(eventLog, config.JWT_SECRET) : undefined,
      openPersonalData: personalDataOpenerOf(config, eventLog),
      causality: eventLog ? eventLogCausality(eventLog, config.JWT_SECRET) : undefined,
      readMaxWaitMs: config.READ_MAX_WAIT_MS,
    }),
    ReplayModule.forRoot({ eventLog: eventLog ? eventLogFeedReader(eventLog, config.JWT_SECRET) : undefined }),
  ];
}

/**
 * How the projector opens sealed personal fields: with the keys table itself when it may read it (one query per batch,
 * in the projector's process), else through the command service's route (keys stay there, an HTTP request per batch).
 */
function personalDataOpenerOf(
  config: ConfigOf<ReturnType<typeof projectorServiceConfig>>,
  commandService: string,
): PersonalDataOpener | undefined {
  if (config.PERSONAL_DATA_KEYS_DATABASE_URL) {
    const pool = new Pool({
      connectionString: config.PERSONAL_DATA_KEYS_DATABASE_URL,
      options: `-c search_path=${config.PERSONAL_DATA_KEYS_DATABASE_SCHEMA} -c default_transaction_read_only=on`,
      // One per partition applied at once: each batch asks for its keys while holding its transaction open.
      max: config.PROJECTOR_PARTITIONS_CONCURRENTLY,
      application_name: 'projector-keys',
      // Nothing closes this pool at shutdown; idle connections must not keep the process alive.
      allowExitOnIdle: true,
    });
    const logger = new Logger('Projector');
    surviveDatabaseRestarts(pool, (m) => logger.warn(m));
    return keysTableOpener(rowsOf(pool));
  }
  return commandService ? personalDataOpener(commandService, config.JWT_SECRET) : undefined;
}
