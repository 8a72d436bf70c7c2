import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { Pool } from 'pg';
import { CUSTOM_PLANS, surviveDatabaseRestarts } from '@event-spine/persistence';
import { ProjectorAdminAuditIndex1765400000000 } from '../admin-audit.migration';
import { ProjectorOffsetResets1763800003200 } from '../offset-resets.migration';
import { ProjectorFences1763800003100 } from '../fences.migration';
import { ProjectionRunner } from '../projection-runner';
import { ProjectorCore1763800001000 } from '../projections.migration';
import { AdminAuditLogHttpController } from './admin-audit-log.http.controller';
import { ProjectionConsumer } from './projection-consumer';
import { InvocationsHttpController } from './invocations.http.controller';
import { ProjectionsAdminHttpController } from './projections-admin.http.controller';
import { PROJECTIONS_OPTIONS, PROJECTIONS_POOL, type ProjectionsModuleOptions } from './projections.options';

/** The projector's bookkeeping tables (positions, subjects, parked events, audit, fences), for its migrations. */
export const projectionsMigrations = [
  ProjectorCore1763800001000,
  ProjectorFences1763800003100,
  ProjectorOffsetResets1763800003200,
  ProjectorAdminAuditIndex1765400000000,
];

/**
 * A projector in one import: consumes the catalog's topics into the given projections, exactly once in effect
 * (ProjectionConsumer), and serves the admin routes over positions, parked subjects and the admin audit log. Global, so the replay module
 * and the domain's read API can inject the pool, the runner and the options. The application still imports the
 * platform modules it runs on (persistence, Kafka, metrics, health) and adds `PositionsReadinessCheck` to its health
 * checks.
 */
@Module({})
export class ProjectionsModule {
  static forRoot(options: ProjectionsModuleOptions): DynamicModule {
    return {
      module: ProjectionsModule,
      global: true,
      controllers: [ProjectionsAdminHttpController, InvocationsHttpController, AdminAuditLogHttpController],
      providers: [
        { provide: PROJECTIONS_OPTIONS, useValue: options },
        {
          provide: PROJECTIONS_POOL,
          useFactory: () => {
            const pool = new Pool({
              connectionString: options.databaseUrl,
              options: `-c search_path=${options.schema} ${CUSTOM_PLANS}`,
              // One connection per partition applied at once, one for admin and read routes, one for lag.
              max: options.partitionsConcurrently + 2,
              application_name: 'projector-consumer',
            });
            const logger = new Logger('Projector');
            surviveDatabaseRestarts(pool, (m) => logger.warn(m));
            return pool;
          },
        },
        ProjectionConsumer,
        { provide: ProjectionRunner, useFactory: (c: ProjectionConsumer) => c.runner, inject: [ProjectionConsumer] },
      ],
      exports: [PROJECTIONS_OPTIONS, PROJECTIONS_POOL, ProjectionConsumer, ProjectionRunner],
    };
  }
}
