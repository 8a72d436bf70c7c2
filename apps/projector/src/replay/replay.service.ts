import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { ledgerCatalog } from '@ledger/contract';
import { ReplayEngine } from '@spine/replay';
import { commandLogRepair } from '../consumer/command-log.repair';
import { PROJECTOR_CONFIG, ProjectorConsumer } from '../consumer/projector-consumer.service';
import type { ProjectorConfig } from '../projector.config';
import { projections } from '../projections';
import { commandFeedReader } from './command-feed.reader';

/** The replay engine in the projector process: started after migrations, stopped (replays cancelled) on shutdown. */
@Injectable()
export class ReplayService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly engine: ReplayEngine;

  constructor(kafka: Kafka, consumer: ProjectorConsumer, @Inject(PROJECTOR_CONFIG) config: ProjectorConfig) {
    const commandService = config.COMMAND_SERVICE_URL.replace(/\/$/, '');
    this.engine = new ReplayEngine({
      databaseUrl: config.DATABASE_URL,
      liveSchema: config.DATABASE_SCHEMA,
      liveConsumer: consumer.groupId,
      topics: consumer.topics,
      catalog: ledgerCatalog,
      projections,
      kafka,
      repair: commandService ? commandLogRepair(commandService, config.JWT_SECRET) : undefined,
      eventLog: commandService ? commandFeedReader(commandService, config.JWT_SECRET) : undefined,
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
