import { Module, type DynamicModule } from '@nestjs/common';
import { ledgerCatalog } from '@ledger/contract';
import {
  eventLogRepair,
  PositionsReadinessCheck,
  ProjectionsModule,
  projectionsMigrations,
} from '@event-spine/projections';
import { eventLogFeedReader, ReplayModule, replayMigrations } from '@event-spine/replay';
import { PlatformModule } from '@event-spine/platform';
import type { ProjectorConfig } from './projector.config';
import { projections } from './projections';
import { ReadModels1763800002000 } from './projections/read-models.migration';
import { ReadModelsHttpController } from './read-api/read-models.http.controller';

export const SERVICE_NAME = 'projector';

/** The ledger's projector: the platform's projection and replay modules over the ledger's catalog and projections. */
@Module({})
export class ProjectorModule {
  static forRoot(config: ProjectorConfig): DynamicModule {
    const eventLog = config.COMMAND_SERVICE_URL.replace(/\/$/, '');
    return {
      module: ProjectorModule,
      imports: [
        PlatformModule.forRoot({
          service: SERVICE_NAME,
          config,
          migrations: [...projectionsMigrations, ReadModels1763800002000, ...replayMigrations],
          topics: ledgerCatalog.topics(config.KAFKA_TOPIC_PREFIX),
          kafkaRequired: true,
          readiness: [PositionsReadinessCheck],
        }),
        ProjectionsModule.forRoot({
          catalog: ledgerCatalog,
          projections,
          databaseUrl: config.DATABASE_URL,
          schema: config.DATABASE_SCHEMA,
          topicPrefix: config.KAFKA_TOPIC_PREFIX,
          groupId: config.PROJECTOR_GROUP_ID,
          partitionsConcurrently: config.PROJECTOR_PARTITIONS_CONCURRENTLY,
          sessionTimeoutMs: config.PROJECTOR_SESSION_TIMEOUT_MS,
          repair: eventLog ? eventLogRepair(eventLog, config.JWT_SECRET) : undefined,
          readMaxWaitMs: config.READ_MAX_WAIT_MS,
        }),
        ReplayModule.forRoot({ eventLog: eventLog ? eventLogFeedReader(eventLog, config.JWT_SECRET) : undefined }),
      ],
      controllers: [ReadModelsHttpController],
    };
  }
}
