import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Kafka, type Consumer } from 'kafkajs';
import { Pool } from 'pg';
import { allTopics } from '@spine/events';
import { LATENCY_BUCKETS, Metrics } from '@spine/observability';
import { ProjectionRunner } from '@spine/projections';
import type { ProjectorConfig } from '../projector.config';
import { projections } from '../projections';
import { commandLogRepair } from './command-log.repair';

export const PROJECTOR_CONFIG = Symbol('PROJECTOR_CONFIG');

/**
 * Kafka → read models. Positions live in PostgreSQL, committed with the read models; Kafka's committed offsets only
 * shorten a restart. On every assignment the consumer seeks to the stored positions.
 */
@Injectable()
export class ProjectorConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Projector');
  private readonly consumer: Consumer;
  readonly pool: Pool;
  readonly runner: ProjectionRunner;
  readonly groupId: string;
  readonly topics: string[];

  constructor(
    private readonly kafka: Kafka,
    private readonly metrics: Metrics,
    @Inject(PROJECTOR_CONFIG) config: ProjectorConfig,
  ) {
    this.groupId = `${config.KAFKA_TOPIC_PREFIX}${config.PROJECTOR_GROUP_ID}`;
    this.topics = allTopics(config.KAFKA_TOPIC_PREFIX);
    this.pool = new Pool({
      connectionString: config.DATABASE_URL,
      options: `-c search_path=${config.DATABASE_SCHEMA}`,
      max: 4,
      application_name: 'projector-consumer',
    });
    // An idle connection dropped by a database restart must not take the process down; the next query reconnects.
    this.pool.on('error', (error) => this.logger.warn({ message: 'database connection lost', error: String(error) }));
    const repair = config.COMMAND_SERVICE_URL
      ? commandLogRepair(config.COMMAND_SERVICE_URL.replace(/\/$/, ''), config.JWT_SECRET)
      : undefined;
    this.runner = new ProjectionRunner(this.pool, projections, this.groupId, { repair });
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: config.PROJECTOR_SESSION_TIMEOUT_MS,
      heartbeatInterval: Math.max(100, Math.floor(config.PROJECTOR_SESSION_TIMEOUT_MS / 10)),
      maxWaitTimeInMs: 50,
      allowAutoTopicCreation: false,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const applied = this.metrics.counter('spine_projector_applied_total', 'Events applied to the read models');
    const duplicates = this.metrics.counter('spine_projector_duplicates_total', 'Duplicate deliveries ignored');
    const parked = this.metrics.counter(
      'spine_projector_parked_total',
      'Events parked (gap, poison, behind a parked one)',
    );
    const gaps = this.metrics.counter('spine_projector_gaps_total', 'Sequence gaps detected');
    const latency = this.metrics.histogram(
      'spine_projector_commit_to_projection_seconds',
      'From recordedAt of an event to its read-model commit',
      LATENCY_BUCKETS,
    );
    const kafkaAdmin = this.kafka.admin();
    const runner = this.runner;
    const topics = this.topics;
    this.metrics.gauge(
      'spine_projector_lag',
      'Messages on Kafka not yet applied, per partition',
      ['topic', 'partition'],
      async function () {
        try {
          await kafkaAdmin.connect();
          for (const topic of topics) {
            for (const p of await kafkaAdmin.fetchTopicOffsets(topic)) {
              const stored = Number((await runner.storedOffset(topic, p.partition)) ?? 0);
              this.set({ topic, partition: String(p.partition) }, Math.max(0, Number(p.high) - stored));
            }
          }
        } catch {
          // Lag is unknown while Kafka or the database is away; readiness reports that.
        }
      },
    );
    this.lagAdmin = kafkaAdmin;
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      void this.seekToStored(payload.memberAssignment);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const outcome = await this.runner.process(
          batch.topic,
          batch.partition,
          batch.messages.map((m) => ({
            offset: m.offset,
            key: m.key?.toString() ?? null,
            value: m.value?.toString() ?? null,
          })),
        );
        // A replay's fence or swap: what was not applied is fetched again shortly, from where it stopped.
        const next = outcome.resumeAt ?? (BigInt(batch.lastOffset()) + 1n).toString();
        if (outcome.resumeAt === undefined) payload.resolveOffset(batch.lastOffset());
        else this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: outcome.resumeAt });
        await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
        await payload.heartbeat();
        const now = Date.now();
        applied.inc(outcome.applied);
        duplicates.inc(outcome.duplicates);
        parked.inc(outcome.parked);
        gaps.inc(outcome.gaps);
        for (const at of outcome.appliedRecordedAt) latency.observe((now - Date.parse(at)) / 1000);
        if (outcome.resumeAt !== undefined) await new Promise((resolve) => setTimeout(resolve, 50));
        if (outcome.parked > 0)
          this.logger.warn({
            message: 'events parked',
            topic: batch.topic,
            partition: batch.partition,
            parked: outcome.parked,
          });
      },
    });
  }

  private async seekToStored(assignment: Record<string, number[]>): Promise<void> {
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const stored = await this.runner.storedOffset(topic, partition).catch(() => undefined);
        if (stored !== undefined) this.consumer.seek({ topic, partition, offset: stored });
      }
    }
  }

  private lagAdmin?: { disconnect(): Promise<void> };

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.disconnect();
    await this.lagAdmin?.disconnect();
    await this.pool.end();
  }
}
