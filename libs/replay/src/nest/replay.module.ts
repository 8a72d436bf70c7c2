import { Module, type DynamicModule } from '@nestjs/common';
import { Replays1763800003000 } from '../replays.migration';
import { ReplayEngine } from '../replay-engine';
import { REPLAY_ENGINE_PROVIDER, ReplayLifecycle, REPLAY_OPTIONS, type ReplayModuleOptions } from './replay.service';
import { ReplaysHttpController } from './replays.http.controller';

/** The replay table, for the projector's migrations. */
export const replayMigrations = [Replays1763800003000];

/**
 * The admin replay API (preview, signed-off rebuild, cancel) over the projections of `ProjectionsModule`, which the
 * application imports first: the engine reads its options (catalog, projections, positions) from there.
 */
@Module({})
export class ReplayModule {
  static forRoot(options: ReplayModuleOptions = {}): DynamicModule {
    return {
      module: ReplayModule,
      controllers: [ReplaysHttpController],
      providers: [{ provide: REPLAY_OPTIONS, useValue: options }, REPLAY_ENGINE_PROVIDER, ReplayLifecycle],
      exports: [ReplayEngine],
    };
  }
}
