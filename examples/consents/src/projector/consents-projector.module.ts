import { Module, type DynamicModule } from '@nestjs/common';
import type { ConfigOf } from '@event-spine/config';
import { projectorServiceConfig, projectorServiceModules } from '@event-spine/platform';
import { consentsCatalog } from '../contract';
import { projections } from './projections';
import { ConsentsReadModels1764600000000 } from './projections/read-models.migration';
import { ConsentsHttpController } from './read-api/consents.http.controller';
import { EvidenceHttpController } from './read-api/evidence.http.controller';

export const SERVICE_NAME = 'consents-projector';
export const consentsProjectorConfig = projectorServiceConfig({ httpPort: 3101, groupId: 'consents-projector' });
export type ConsentsProjectorConfig = ConfigOf<typeof consentsProjectorConfig>;

/** The consents projector: the platform's projector modules over this domain's catalog and projections. */
@Module({})
export class ConsentsProjectorModule {
  static forRoot(config: ConsentsProjectorConfig): DynamicModule {
    return {
      module: ConsentsProjectorModule,
      imports: projectorServiceModules({
        service: SERVICE_NAME,
        catalog: consentsCatalog,
        projections,
        readModelMigrations: [ConsentsReadModels1764600000000],
        config,
      }),
      controllers: [ConsentsHttpController, EvidenceHttpController],
    };
  }
}
