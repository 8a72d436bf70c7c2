import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import type { Counter } from 'prom-client';
import type { Pool } from 'pg';
import {
  createMessageConsumer,
  KAFKA_OPTIONS,
  KafkaAdmin,
  traceCarrier,
  type IncomingBatch,
  type KafkaModuleOptions,
  type MessageConsumer,
  type StartReason,
} from '@event-spine/kafka';
import {
  inSpan,
  LATENCY_BUCKETS,
  linksFrom,
  Metrics,
  OTHER_TENANTS,
  SpanKind,
  TenantWindow,
  topTenants,
  tracingActive,
} from '@event-spine/observability';
import type { PartitionBounds, PositionCheck } from '../partition-position';
import { ProjectionRunner } from '../projection-runner';
import {
  PROJECTIONS_OPTIONS,
  PROJECTIONS_POOL,
  projectionNames,
  type ProjectionsModuleOptions,
} from './projections.options';

/**
 * Kafka → read models. Positions live in PostgreSQL, committed with the read models; Kafka's committed offsets only
 * shorten a restart. On every assignment the consumer seeks to the stored positions.
 */
@Injectable()
export class ProjectionConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Projector');
  private readonly consumer: MessageConsumer;
  readonly runner: ProjectionRunner;
  readonly groupId: string;
  readonly topics: string[];

  constructor(
    kafka: Kafka,
    @Inject(KAFKA_OPTIONS) kafkaOptions: KafkaModuleOptions,
    private readonly metrics: Metrics,
    private readonly kafkaAdmin: KafkaAdmin,
    @Inject(PROJECTIONS_POOL) private readonly pool: Pool,
    @Inject(PROJECTIONS_OPTIONS) options: ProjectionsModuleOptions,
  ) {
    ({ groupId: this.groupId, topics: this.topics } = projectionNames(options));
    this.runner = new ProjectionRunner(this.pool, options.projections, this.groupId, {
      catalog: options.catalog,
      repair: options.repair,
      openPersonalData: options.openPersonalData,
      partitionBounds: (topic, partition) => this.partitionBounds(topic, partition),
    });
    this.consumer = createMessageConsumer(options.kafkaClient, kafka, kafkaOptions, {
      groupId: this.groupId,
      topics: this.topics,
      sessionTimeoutMs: options.sessionTimeoutMs,
      maxWaitMs: 50,
      partitionsConcurrently: options.partitionsConcurrently,
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
    this.positionEvents = this.metrics.counter(
      'spine_projector_offset_anomalies_total',
      'Stored positions that did not fit the partition: kind="reset" (beyond its end; Kafka offsets started over) or ' +
        'kind="source-gap" (below its log start; retention deleted offsets before they were read)',
      ['topic', 'partition', 'kind'],
    );
    const latency = this.metrics.histogram(
      'spine_projector_commit_to_projection_seconds',
      'From recordedAt of an event to its read-model commit',
      LATENCY_BUCKETS,
    );
    const { admin } = this.kafkaAdmin;
    const runner = this.runner;
    const topics = this.topics;
    this.metrics.gauge(
      'spine_projector_lag',
      'Messages on Kafka not yet applied, per partition',
      ['topic', 'partition'],
      async function () {
        try {
          for (const topic of topics) {
            for (const p of await admin.fetchTopicOffsets(topic)) {
              const stored = Number((await runner.storedOffset(topic, p.partition)) ?? 0);
              // Negative lag is shown as it is: a position beyond the partition's end is an offset reset to report.
              this.set({ topic, partition: String(p.partition) }, Number(p.high) - stored);
            }
          }
        } catch {
          // Lag is unknown while Kafka or the database is away; readiness reports that.
        }
      },
    );
    const pool = this.pool;
    this.metrics.gauge(
      'spine_projector_parked_subjects',
      'Subjects parked now (waiting for an admin to retry or skip them), all tenants',
      [],
      async function () {
        try {
          const { rows } = await pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM projector_subjects WHERE parked_reason IS NOT NULL`,
          );
          this.set(rows[0].n);
        } catch {
          // Unknown while the database is away; readiness reports that.
        }
      },
    );
    const { delayByTenant, metrics } = this;
    this.metrics.gauge(
      'spine_tenant_projection_delay_seconds',
      'Longest time from an event being recorded to its read-model commit over the last minute, for the tenants ' +
        'with the longest by name and the rest as "other" (their longest)',
      ['tenant'],
      function () {
        const values = delayByTenant.values();
        this.reset();
        const top = topTenants(values, metrics.topTenants);
        const named = new Set(top.map(([t]) => t));
        const rest = [...values].filter(([t]) => !named.has(t) || t === OTHER_TENANTS).map(([, v]) => v);
        for (const [tenant] of top.slice(0, -1)) this.set({ tenant }, values.get(tenant)!);
        this.set({ tenant: OTHER_TENANTS }, rest.length > 0 ? Math.max(...rest) : 0);
      },
    );
    this.metricsSink = { applied, duplicates, parked, gaps, latency };
    await this.consumer.start({
      startAt: (topic, partition, reason) => this.startAt(topic, partition, reason),
      eachBatch: (batch) => this.applyBatch(batch),
    });
    this.logger.log({ message: 'projector consuming', kafkaClient: this.consumer.client, topics: this.topics });
  }

  private readonly delayByTenant = new TenantWindow(60_000, 'max');

  private metricsSink!: {
    applied: { inc(n: number): void };
    duplicates: { inc(n: number): void };
    parked: { inc(n: number): void };
    gaps: { inc(n: number): void };
    latency: { observe(v: number): void };
  };

  /**
   * Every partition given to this instance starts where the projector stands, after comparing the stored position
   * with the partition's bounds (an offset reset or a gap in the source is reported and resumed from the right place).
   * Without the broker's bounds it starts at the stored position; a reset is then found by the first fetch.
   */
  private async startAt(topic: string, partition: number, reason: StartReason): Promise<string | undefined> {
    const checking = this.runner.checkAssignedPosition(
      topic,
      partition,
      () => this.partitionBounds(topic, partition),
      reason === 'recreated',
    );
    // A recreated topic's stored positions mean nothing on it: without its bounds, the consumer asks again.
    const check = reason === 'recreated' ? await checking : await checking.catch(() => undefined);
    if (check) {
      this.reportPosition(topic, partition, check);
      return check.resumeAt.toString();
    }
    return this.runner.storedOffset(topic, partition);
  }

  private async applyBatch(batch: IncomingBatch): Promise<string> {
    const { applied, duplicates, parked, gaps, latency } = this.metricsSink;
    // One span per batch, linked to the trace context every message carries (its command's).
    const span = {
      kind: SpanKind.CONSUMER,
      links: linksFrom(tracingActive() ? batch.messages.map(traceCarrier) : []),
      attributes: {
        'messaging.system': 'kafka',
        'messaging.destination.name': batch.topic,
        'messaging.destination.partition.id': String(batch.partition),
        'messaging.batch.message_count': batch.messages.length,
      },
    };
    const outcome = await inSpan('projector apply', span, async (active) => {
      const result = await this.runner.process(batch.topic, batch.partition, batch.messages, batch.highWatermark);
      active.setAttributes({ 'spine.applied': result.applied, 'spine.duplicates': result.duplicates });
      return result;
    });
    const anomaly = outcome.reset ?? outcome.sourceGap;
    if (anomaly) this.reportPosition(batch.topic, batch.partition, anomaly);
    // A replay's fence or swap: what was not applied is fetched again shortly, from where it stopped.
    const next = outcome.resumeAt ?? (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n).toString();
    this.commitLater(batch.topic, batch.partition, next);
    const now = Date.now();
    applied.inc(outcome.applied);
    duplicates.inc(outcome.duplicates);
    parked.inc(outcome.parked);
    gaps.inc(outcome.gaps);
    outcome.appliedRecordedAt.forEach((at, i) => {
      const delay = (now - Date.parse(at)) / 1000;
      latency.observe(delay);
      this.delayByTenant.add(outcome.appliedTenantIds[i], delay);
    });
    if (outcome.resumeAt !== undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    if (outcome.parked > 0)
      this.logger.warn({
        message: 'events parked',
        topic: batch.topic,
        partition: batch.partition,
        parked: outcome.parked,
      });
    return next;
  }

  private async partitionBounds(topic: string, partition: number): Promise<PartitionBounds> {
    const offsets = await this.kafkaAdmin.admin.fetchTopicOffsets(topic);
    const bounds = offsets.find((p) => p.partition === partition);
    if (!bounds) throw new Error(`partition ${topic}/${partition} is unknown to the broker`);
    return { logStart: BigInt(bounds.low), end: BigInt(bounds.high) };
  }

  private reportPosition(topic: string, partition: number, check: PositionCheck): void {
    if (check.kind === 'in-range') return;
    this.positionEvents.inc({ topic, partition: String(partition), kind: check.kind });
    if (check.kind === 'reset') {
      this.logger.error({
        message:
          'offset reset: the stored position is beyond the partition end (new cluster, recreated topic or restored ' +
          'database); consuming the partition again from its beginning, events applied before count as duplicates',
        topic,
        partition,
        stored: check.stored.toString(),
        partitionEnd: check.end.toString(),
        resumeAt: check.resumeAt.toString(),
      });
    } else {
      this.logger.error({
        message:
          'gap in the source: retention deleted offsets the projector never read; subjects with later events are ' +
          'repaired from the event log or parked; a rebuild from the event log restores subjects without later events',
        topic,
        partition,
        stored: check.stored.toString(),
        logStart: check.logStart.toString(),
      });
    }
  }

  private positionEvents!: Counter<'topic' | 'partition' | 'kind'>;

  /**
   * Kafka's committed offset only shortens a restart (the positions that count were committed with the read models,
   * and every assignment seeks to them), so it is committed at most once a second, the latest per partition, instead
   * of a request per batch: with the small batches of a projector that keeps up, those requests cost the broker about
   * a third of its CPU per command in the bench.
   */
  private commitLater(topic: string, partition: number, offset: string): void {
    this.toCommit.set(`${topic}\u0000${partition}`, { topic, partition, offset });
    if (this.commitTimer) return;
    this.commitTimer = setTimeout(() => void this.commitNow(), KAFKA_COMMIT_INTERVAL_MS);
    this.commitTimer.unref();
  }

  private async commitNow(): Promise<void> {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    const offsets = [...this.toCommit.values()];
    this.toCommit.clear();
    await this.consumer.commit(offsets).catch(() => undefined);
  }

  private readonly toCommit = new Map<string, { topic: string; partition: number; offset: string }>();
  private commitTimer?: NodeJS.Timeout;

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.commitNow();
      await this.consumer.stop();
    } finally {
      await this.pool.end();
    }
  }
}

const KAFKA_COMMIT_INTERVAL_MS = 1000;
