import { Module, type DynamicModule } from '@nestjs/common';
import { ledgerCatalog } from '@ledger/contract';
import { KafkaModule, KafkaReadinessCheck } from '@spine/kafka';
import { HealthModule, LoggingModule, MetricsModule } from '@spine/observability';
import { DatabaseReadinessCheck, PersistenceModule } from '@spine/persistence';
import {
  ProjectorCore1763800001000,
  ProjectorFences1763800003100,
  ProjectorOffsetResets1763800003200,
} from '@spine/projections';
import { Replays1763800003000 } from '@spine/replay';
import { AUTH_SECRET, BearerAuthGuard } from '@spine/auth';
import { AdminHttpController } from './admin/admin.http.controller';
import { PositionsReadinessCheck } from './consumer/positions.readiness';
import { PROJECTOR_CONFIG, ProjectorConsumer } from './consumer/projector-consumer.service';
import type { ProjectorConfig } from './projector.config';
import { ReadModels1763800002000 } from './projections/read-models.migration';
import { ReadModelsHttpController } from './read-api/read-models.http.controller';
import { ReplayService } from './replay/replay.service';
import { ReplaysHttpController } from './replay/replays.http.controller';

export const SERVICE_NAME = 'projector';

@Module({})
export class ProjectorModule {
  static forRoot(config: ProjectorConfig): DynamicModule {
    return {
      module: ProjectorModule,
      imports: [
        LoggingModule.forRoot({ service: SERVICE_NAME, level: config.LOG_LEVEL, pretty: config.LOG_PRETTY }),
        MetricsModule.forRoot(SERVICE_NAME),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          schema: config.DATABASE_SCHEMA,
          poolSize: config.DATABASE_POOL_SIZE,
          runMigrations: config.DATABASE_RUN_MIGRATIONS,
          applicationName: SERVICE_NAME,
          migrations: [
            ProjectorCore1763800001000,
            ReadModels1763800002000,
            Replays1763800003000,
            ProjectorFences1763800003100,
            ProjectorOffsetResets1763800003200,
          ],
        }),
        KafkaModule.forRoot({
          brokers: config.KAFKA_BROKERS,
          clientId: `${config.KAFKA_CLIENT_ID}-${SERVICE_NAME}`,
          topics: ledgerCatalog.topics(config.KAFKA_TOPIC_PREFIX),
          partitions: config.KAFKA_TOPIC_PARTITIONS,
          required: true,
        }),
        HealthModule.forRoot([DatabaseReadinessCheck, KafkaReadinessCheck, PositionsReadinessCheck]),
      ],
      controllers: [ReadModelsHttpController, AdminHttpController, ReplaysHttpController],
      providers: [
        { provide: PROJECTOR_CONFIG, useValue: config },
        { provide: AUTH_SECRET, useValue: config.JWT_SECRET },
        BearerAuthGuard,
        ProjectorConsumer,
        ReplayService,
      ],
    };
  }
}
