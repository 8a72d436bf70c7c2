import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { PROJECTIONS_OPTIONS, projectionNames, type ProjectionsModuleOptions } from '@event-spine/projections';
import { ReplayEngine } from '../replay-engine';
import type { EventLogReader } from '../sources/event-log.source';

export const REPLAY_OPTIONS = Symbol('REPLAY_OPTIONS');

export interface ReplayModuleOptions {
  /** The canonical log, for replays from `event-log` (see `eventLogFeedReader`); absent: those are refused. */
  eventLog?: EventLogReader;
}

/** The replay engine in the projector process: started after migrations, stopped (replays cancelled) on shutdown. */
@Injectable()
export class ReplayService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly engine: ReplayEngine;

  constructor(
    kafka: Kafka,
    @Inject(PROJECTIONS_OPTIONS) projections: ProjectionsModuleOptions,
    @Inject(REPLAY_OPTIONS) options: ReplayModuleOptions,
  ) {
    const { groupId, topics } = projectionNames(projections);
    this.engine = new ReplayEngine({
      databaseUrl: projections.databaseUrl,
      liveSchema: projections.schema,
      liveConsumer: groupId,
      topics,
      catalog: projections.catalog,
      projections: projections.projections,
      kafka,
      repair: projections.repair,
      eventLog: options.eventLog,
      logger: new Logger('Replay'),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.engine.startReaper();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.engine.close();
  }
}
