import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Kafka } from 'kafkajs';
import { hostname } from 'node:os';
import type { DataSource } from 'typeorm';
import { Metrics, setTopTenants } from '@event-spine/observability';
import {
  createMessageProducer,
  KAFKA_OPTIONS,
  type KafkaModuleOptions,
  type MessageProducer,
} from '@event-spine/kafka';
import { defaultSlotName, LogicalRelay } from '../logical/logical-relay';
import { readSlotWal } from '../logical/slot-wal';
import { OutboxRelay } from '../outbox-relay';
import { RELAY_CONFIG, type RelayModuleConfig } from './relay.config';
import { relayMetrics } from './relay-metrics';

/** The relay loop in the Nest shell: started after boot, stopped (batch finished, buckets released) on shutdown. */
@Injectable()
export class RelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('OutboxRelay');
  private readonly producer: MessageProducer;
  private readonly relay: OutboxRelay | LogicalRelay;
  private readonly mode: RelayModuleConfig['RELAY_MODE'];

  constructor(
    kafka: Kafka,
    metrics: Metrics,
    @InjectDataSource() dataSource: DataSource,
    @Inject(RELAY_CONFIG) config: RelayModuleConfig,
    @Inject(KAFKA_OPTIONS) kafkaOptions: KafkaModuleOptions,
  ) {
    this.producer = createMessageProducer(config.RELAY_KAFKA_CLIENT, kafka, {
      ...kafkaOptions,
      compression: { codec: config.RELAY_KAFKA_COMPRESSION, fromMessages: config.RELAY_KAFKA_COMPRESSION_FROM },
    });
    this.mode = config.RELAY_MODE;
    const schema = config.DATABASE_SCHEMA;
    const logger = this.logger;
    // Read on scrape, over all buckets: what all instances together still have to publish.
    scrapedGauges(
      metrics,
      async () =>
        (
          await dataSource.query<{ backlog: number; oldest: number }[]>(
            `SELECT count(o.*)::int AS backlog,
                    coalesce(extract(epoch FROM clock_timestamp() - min(o.created_at)), 0)::float8 AS oldest
               FROM "${schema}".relay_cursor c
               JOIN "${schema}".outbox o ON o.bucket = c.bucket AND (o.tx_id, o.position) > (c.tx_id, c.position)`,
          )
        )[0],
      (error) => logger.warn({ message: 'could not read the outbox backlog', error: String(error) }),
      [
        {
          name: 'spine_relay_backlog',
          help: 'Outbox rows behind the relay cursors: not yet published, and while rows flow the batch Kafka took last',
          pick: (b) => b.backlog,
        },
        {
          name: 'spine_relay_oldest_unpublished_age_seconds',
          help: 'Age of the oldest unpublished outbox row',
          pick: (b) => b.oldest,
        },
      ],
    );

    // Per tenant, read on scrape too: the busiest tenants' backlogs by name, the rest as "other" (bounded series).
    metrics.gauge(
      'spine_tenant_relay_backlog',
      'Outbox rows not yet published, for the tenants with the most by name and the rest as "other"',
      ['tenant'],
      async function () {
        try {
          const rows = await dataSource.query<{ tenant: string; n: number }[]>(
            `SELECT split_part(o.message_key, ':', 1) AS tenant, count(*)::int AS n
               FROM "${schema}".relay_cursor c
               JOIN "${schema}".outbox o ON o.bucket = c.bucket AND (o.tx_id, o.position) > (c.tx_id, c.position)
              GROUP BY 1`,
          );
          setTopTenants(this, new Map(rows.map((r) => [r.tenant, r.n])), metrics.topTenants);
        } catch (error) {
          logger.warn({ message: 'could not read the outbox backlog by tenant', error: String(error) });
        }
      },
    );

    if (config.RELAY_MODE === 'logical') {
      const slot = config.RELAY_LOGICAL_SLOT || defaultSlotName(schema);
      scrapedGauges(
        metrics,
        () => readSlotWal(dataSource, slot),
        (error) => logger.warn({ message: 'could not read the replication slot', slot, error: String(error) }),
        [
          {
            name: 'spine_relay_slot_retained_wal_bytes',
            help:
              'WAL the command database keeps for the logical relay’s replication slot (0 without a slot); it grows ' +
              'while no relay runs',
            pick: (w) => w.retained,
          },
          {
            name: 'spine_relay_slot_unconfirmed_wal_bytes',
            help: 'WAL written since the logical relay last confirmed its slot: not yet published and acknowledged',
            pick: (w) => w.unconfirmed,
          },
        ],
      );
    }

    const log = {
      info: (e: Record<string, unknown>) => this.logger.log(e),
      warn: (e: Record<string, unknown>) => this.logger.warn(e),
      error: (e: Record<string, unknown>) => this.logger.error(e),
    };
    const common = {
      database: { connectionString: config.DATABASE_URL, application_name: 'outbox-relay' },
      schema,
      producer: this.producer,
      batchSize: config.RELAY_BATCH_SIZE,
      waitForFlush: config.RELAY_WAIT_FOR_FLUSH,
      cleanupIntervalMs: config.RELAY_CLEANUP_INTERVAL_MS,
      cleanupBatch: config.RELAY_CLEANUP_BATCH,
      publishedRetentionMs: config.RELAY_PUBLISHED_RETENTION_MS,
      observer: relayMetrics(metrics),
      log,
    };
    this.relay =
      config.RELAY_MODE === 'logical'
        ? new LogicalRelay({
            ...common,
            slot: config.RELAY_LOGICAL_SLOT || undefined,
            standbyRetryMs: config.RELAY_REBALANCE_MS,
          })
        : new OutboxRelay({
            ...common,
            instanceId: config.RELAY_INSTANCE_ID || `${hostname()}-${process.pid}`,
            maxIdleMs: config.RELAY_MAX_IDLE_MS,
            rebalanceMs: config.RELAY_REBALANCE_MS,
            instanceTtlMs: config.RELAY_INSTANCE_TTL_MS,
            retriableBoundMs: config.RELAY_RETRIABLE_BOUND_MS,
          });
  }

  /** The buckets this instance publishes (every one while it is the logical mode's active instance). */
  get ownedBuckets(): number[] {
    return this.relay.ownedBuckets;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.producer.connect();
    await this.relay.start();
    this.logger.log({ message: 'relay started', kafkaClient: this.producer.client, mode: this.mode });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
    await this.producer.disconnect();
  }
}

/**
 * Gauges read on scrape that share one read per scrape (kept for half a second). A failed read (the database away, a
 * table not migrated yet) sets NaN and is logged rather than failing the whole scrape; nothing to read counts as 0.
 */
function scrapedGauges<T>(
  metrics: Metrics,
  read: () => Promise<T | undefined>,
  onError: (error: unknown) => void,
  gauges: readonly { name: string; help: string; pick: (value: T) => number }[],
): void {
  let cached: { at: number; value: Promise<T | undefined> } | undefined;
  const value = async (pick: (value: T) => number) => {
    if (!cached || Date.now() - cached.at > 500) cached = { at: Date.now(), value: read() };
    try {
      const got = await cached.value;
      return got === undefined ? 0 : pick(got);
    } catch (error) {
      onError(error);
      return NaN;
    }
  };
  for (const { name, help, pick } of gauges) {
    metrics.gauge(name, help, [], async function () {
      this.set(await value(pick));
    });
  }
}
