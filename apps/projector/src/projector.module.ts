import { Module, type DynamicModule } from '@nestjs/common';
import { ledgerCatalog } from '@ledger/contract';
import { projectorServiceModules } from '@event-spine/platform';
import type { ProjectorConfig } from './projector.config';
import { projections } from './projections';
import { readModelMigrations } from './projections/read-models.migration';
import { ReadModelsHttpController } from './read-api/read-models.http.controller';

export const SERVICE_NAME = 'projector';

/** The ledger's projector: the platform's projector modules over the ledger's catalog and projections. */
@Module({})
export class ProjectorModule {
  static forRoot(config: ProjectorConfig): DynamicModule {
    return {
      module: ProjectorModule,
      imports: projectorServiceModules({
        service: SERVICE_NAME,
        catalog: ledgerCatalog,
        projections,
        readModelMigrations,
        config,
      }),
      controllers: [ReadModelsHttpController],
    };
  }
}
