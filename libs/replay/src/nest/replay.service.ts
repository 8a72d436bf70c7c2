import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { createMessageConsumer, KAFKA_OPTIONS, type KafkaModuleOptions } from '@event-spine/kafka';
import { Metrics } from '@event-spine/observability';
import { PROJECTIONS_OPTIONS, projectionNames, type ProjectionsModuleOptions } from '@event-spine/projections';
import { ReplayEngine } from '../replay-engine';
import type { EventLogReader } from '../sources/event-log.source';

export const REPLAY_OPTIONS = Symbol('REPLAY_OPTIONS');

export interface ReplayModuleOptions {
  /** The canonical log, for replays from `event-log` (see `eventLogFeedReader`); absent: those are refused. */
  eventLog?: EventLogReader;
}

/** The engine over the projector's own options: its catalog, projections, positions and broker. */
export function replayEngineFactory(
  kafka: Kafka,
  kafkaOptions: KafkaModuleOptions,
  projections: ProjectionsModuleOptions,
  options: ReplayModuleOptions,
  metrics: Metrics,
): ReplayEngine {
  const { groupId, topics } = projectionNames(projections);
  const finished = metrics.counter('spine_replays_total', 'Replays that ended, by projection, mode and state', [
    'projection',
    'mode',
    'state',
  ]);
  // Every series exists from the start, so an alert on increase() sees the first failure too.
  for (const projection of projections.projections) {
    for (const mode of ['preview', 'rebuild']) {
      for (const state of ['completed', 'failed', 'cancelled'])
        finished.inc({ projection: projection.name, mode, state }, 0);
    }
  }
  return new ReplayEngine({
    databaseUrl: projections.databaseUrl,
    liveSchema: projections.schema,
    liveConsumer: groupId,
    topics,
    catalog: projections.catalog,
    projections: projections.projections,
    kafka,
    newConsumer: (settings) => createMessageConsumer(projections.kafkaClient, kafka, kafkaOptions, settings),
    repair: projections.repair,
    openPersonalData: projections.openPersonalData,
    eventLog: options.eventLog,
    partitionsConcurrently: projections.partitionsConcurrently,
    logger: new Logger('Replay'),
    onFinished: (o) => finished.inc(o),
  });
}

export const REPLAY_ENGINE_PROVIDER = {
  provide: ReplayEngine,
  useFactory: replayEngineFactory,
  inject: [Kafka, KAFKA_OPTIONS, PROJECTIONS_OPTIONS, REPLAY_OPTIONS, Metrics],
};

/** The engine's life in the projector process: its reaper starts after migrations; replays are cancelled on shutdown. */
@Injectable()
export class ReplayLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(ReplayEngine) private readonly engine: ReplayEngine) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.engine.startReaper();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.engine.close();
  }
}
