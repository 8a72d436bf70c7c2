import { Module, type DynamicModule } from '@nestjs/common';
import type { ConfigOf } from '@event-spine/config';
import { PlatformModule, projectorServiceConfig } from '@event-spine/platform';
import {
  eventLogRepair,
  PositionsReadinessCheck,
  ProjectionsModule,
  projectionsMigrations,
} from '@event-spine/projections';
import { eventLogFeedReader, ReplayModule, replayMigrations } from '@event-spine/replay';
import { consentsCatalog } from '../contract';
import { projections } from './projections';
import { ConsentsReadModels1764600000000 } from './projections/read-models.migration';
import { ConsentsHttpController } from './read-api/consents.http.controller';
import { EvidenceHttpController } from './read-api/evidence.http.controller';

export const SERVICE_NAME = 'consents-projector';
export const consentsProjectorConfig = projectorServiceConfig({ httpPort: 3101, groupId: 'consents-projector' });
export type ConsentsProjectorConfig = ConfigOf<typeof consentsProjectorConfig>;

/** The consents projector: the platform's projection and replay modules over this domain's catalog and projections. */
@Module({})
export class ConsentsProjectorModule {
  static forRoot(config: ConsentsProjectorConfig): DynamicModule {
    const eventLog = config.COMMAND_SERVICE_URL.replace(/\/$/, '');
    return {
      module: ConsentsProjectorModule,
      imports: [
        PlatformModule.forRoot({
          service: SERVICE_NAME,
          config,
          migrations: [...projectionsMigrations, ConsentsReadModels1764600000000, ...replayMigrations],
          topics: consentsCatalog.topics(config.KAFKA_TOPIC_PREFIX),
          kafkaRequired: true,
          readiness: [PositionsReadinessCheck],
        }),
        ProjectionsModule.forRoot({
          catalog: consentsCatalog,
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
      controllers: [ConsentsHttpController, EvidenceHttpController],
    };
  }
}
