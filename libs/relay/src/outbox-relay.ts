import { Client, type ClientConfig } from 'pg';
import type { Producer, TopicMessages } from 'kafkajs';
import { OUTBOX_BUCKETS, outboxChannel } from '@spine/outbox';

export interface RelayOptions {
  /** Connection settings of the database that holds the outbox (the command service's). */
  database: ClientConfig;
  schema: string;
  producer: Producer;
  instanceId: string;
  batchSize: number;
  /** Longest sleep between polls when idle; a NOTIFY from the command service wakes the relay sooner. */
  maxIdleMs: number;
  /** How often the instance renews its heartbeat and rebalances buckets with the others. */
  rebalanceMs: number;
  /** An instance whose heartbeat is older than this is considered gone. */
  instanceTtlMs: number;
  cleanupIntervalMs: number;
  cleanupBatch: number;
  observer?: RelayObserver;
  log?: RelayLog;
}

export interface RelayObserver {
  published(count: number, commitToAckSeconds: number[]): void;
  resentAfterRecovery(count: number): void;
  publishFailed(retriable: boolean): void;
  bucketsOwned(count: number): void;
}

export interface RelayLog {
  info(entry: Record<string, unknown>): void;
  warn(entry: Record<string, unknown>): void;
  error(entry: Record<string, unknown>): void;
}

interface Row {
  position: string;
  tx_id: string;
  bucket: number;
  event_id: string;
  topic: string;
  message_key: string;
  headers: Record<string, string>;
  value: string;
  age_seconds: number;
}

/**
 * Publishes the outbox to Kafka, at least once, in order per subject, with any number of instances.
 *
 * Order and gaps: each bucket is read in (tx_id, position) order, and only from transactions older than the oldest
 * one still in flight (`pg_snapshot_xmin`), so a transaction that commits late is published late, never skipped.
 * The command side takes its subjects' locks before its first write, which makes tx_id order the sequence order of
 * every subject.
 *
 * Ownership: an instance owns a bucket while it holds a session advisory lock on it, on the one connection it also
 * reads and advances cursors with. If the process dies, PostgreSQL drops the connection and its locks, and another
 * instance takes the buckets over at its next rebalance (within `rebalanceMs`). If only the connection dies, the
 * cursor writes fail with it: an instance can never advance a cursor it no longer owns.
 *
 * Crash safety: the cursor moves only after Kafka acknowledged the batch. Before sending, the batch's end is noted as
 * "in flight"; after a crash, rows between the cursor and that mark are sent again and counted as duplicates.
 */
export class OutboxRelay {
  private client?: Client;
  private running = false;
  private loopDone?: Promise<void>;
  private wake?: () => void;
  private readonly owned = new Set<number>();
  private lastRebalance = 0;
  private lastCleanup = 0;
  private lockClass = 0;
  private pendingWake = false;
  /** After a non-retriable send error, batches shrink until the one row Kafka refuses is found. */
  private narrowTo?: number;
  /** Buckets whose oldest row Kafka refuses: held back (never skipped) and retried with a growing backoff. */
  private readonly stalled = new Map<number, { until: number; failures: number }>();

  constructor(private readonly options: RelayOptions) {}

  get ownedBuckets(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    this.running = true;
    await this.connect();
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loopDone;
    await this.disconnect(true);
  }

  private async connect(): Promise<void> {
    const client = new Client({ ...this.options.database, options: `-c search_path=${this.options.schema}` });
    client.on('error', (error) => this.options.log?.warn({ message: 'relay connection error', error: String(error) }));
    client.on('notification', () => {
      this.pendingWake = true;
      this.wake?.();
    });
    await client.connect();
    await client.query(`LISTEN "${outboxChannel(this.options.schema)}"`);
    const [row] = (
      await client.query<{ k: number }>(`SELECT hashtext('spine-relay:' || $1) AS k`, [this.options.schema])
    ).rows;
    this.lockClass = row.k;
    await this.rebaseAfterRestore(client);
    this.client = client;
    this.owned.clear();
    this.lastRebalance = 0;
  }

  private async disconnect(graceful: boolean): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.owned.clear();
    this.options.observer?.bucketsOwned(0);
    if (!client) return;
    if (graceful) {
      // Leaving the heartbeat table lets the others take the buckets over at once instead of after the TTL.
      await client
        .query(`DELETE FROM relay_instances WHERE instance_id = $1`, [this.options.instanceId])
        .catch(() => undefined);
    }
    await client.end().catch(() => undefined);
  }

  /**
   * Order and cursors use transaction ids, which a dump restored into another PostgreSQL cluster does not keep: the
   * restored rows and cursors carry the old cluster's ids, new rows get the new cluster's, possibly lower ones, and
   * would sort behind the cursors for ever. A visible row or cursor with an id the server has not handed out yet can
   * only come from such a restore. Which rows were published is then unknowable (ids of both clusters mix), so every
   * row still in the outbox is sent again, in position order (which is each subject's sequence order) and before any
   * new transaction's rows: rows published before the restore and not yet cleaned up arrive twice (consumers drop
   * them by sequence); none is lost.
   */
  private async rebaseAfterRestore(client: Client): Promise<void> {
    const future = `pg_snapshot_xmax(pg_current_snapshot())`;
    const probe = `SELECT EXISTS (SELECT 1 FROM relay_cursor WHERE tx_id >= ${future})
                       OR EXISTS (SELECT 1 FROM outbox WHERE tx_id >= ${future}) AS restored`;
    if (!(await client.query<{ restored: boolean }>(probe)).rows[0].restored) return;
    await client.query('BEGIN');
    try {
      await client.query('LOCK TABLE relay_cursor IN EXCLUSIVE MODE');
      if (!(await client.query<{ restored: boolean }>(probe)).rows[0].restored)
        return void (await client.query('COMMIT'));
      const { rowCount: moved } = await client.query(`UPDATE outbox SET tx_id = '1'`);
      await client.query(`UPDATE relay_cursor SET tx_id = '0', position = 0, inflight_tx = NULL, inflight_pos = NULL`);
      await client.query('COMMIT');
      this.options.log?.warn({
        message: 'transaction ids went backwards (a restore into another cluster?): outbox order rebased',
        rowsToSend: moved,
      });
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  private async loop(): Promise<void> {
    let idleMs = 1;
    let failures = 0;
    while (this.running) {
      try {
        if (!this.client) await this.connect();
        if (Date.now() - this.lastRebalance >= this.options.rebalanceMs) await this.rebalance();
        if (Date.now() - this.lastCleanup >= this.options.cleanupIntervalMs) await this.cleanup();
        const published = this.owned.size > 0 ? await this.publishBatch() : 0;
        failures = 0;
        if (published > 0) {
          idleMs = 1;
          continue;
        }
        await this.idle(idleMs);
        idleMs = Math.min(idleMs * 2, this.options.maxIdleMs);
      } catch (error) {
        failures++;
        const cause = error instanceof PublishFailed ? error.cause : error;
        const retriable = isRetriable(cause);
        this.options.observer?.publishFailed(retriable);
        const rows = error instanceof PublishFailed ? error.rows : [];
        this.options.log?.[failures > 3 || !retriable ? 'error' : 'warn']({
          message: 'relay iteration failed; retrying',
          error: String(cause),
          retriable,
          failures,
          ...(rows.length > 0 && { batchSize: rows.length, rows: rows.slice(0, 10).map(describeRow) }),
        });
        if (!retriable && rows.length > 0) this.isolate(rows);
        if (isConnectionError(error)) await this.disconnect(false);
        await this.idle(Math.min(100 * 2 ** Math.min(failures, 8), 10_000));
      }
    }
  }

  /**
   * Kafka refused a batch for good (a message too large, say). Order forbids skipping the row, and dropping it would
   * lose an event: halve the batch until the row is alone, then hold back only its bucket, retrying it with a
   * growing backoff, so every other subject keeps flowing. The row is in the logs, the error in the metrics.
   */
  private isolate(rows: readonly Row[]): void {
    if (rows.length > 1) {
      this.narrowTo = Math.max(1, Math.floor(rows.length / 2));
      return;
    }
    const [row] = rows;
    const failures = (this.stalled.get(row.bucket)?.failures ?? 0) + 1;
    const backoffMs = Math.min(60_000, 1000 * 2 ** (failures - 1));
    this.stalled.set(row.bucket, { until: Date.now() + backoffMs, failures });
    this.narrowTo = undefined;
    this.options.log?.error({
      message: 'Kafka refuses an outbox row: its bucket is held back (not skipped) and retried',
      ...describeRow(row),
      retryInMs: backoffMs,
    });
  }

  private idle(ms: number): Promise<void> {
    if (this.pendingWake || !this.running) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const done = () => {
        clearTimeout(timer);
        this.pendingWake = false;
        resolve();
      };
      timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Heartbeat, then take free buckets up to a fair share and give back what exceeds it. */
  private async rebalance(): Promise<void> {
    const client = this.client!;
    const { instanceId, instanceTtlMs } = this.options;
    const { rows } = await client.query<{ live: number }>(
      `WITH beat AS (
         INSERT INTO relay_instances (instance_id, last_seen) VALUES ($1, now())
         ON CONFLICT (instance_id) DO UPDATE SET last_seen = now())
       SELECT count(*)::int + CASE WHEN bool_or(instance_id = $1) THEN 0 ELSE 1 END AS live
         FROM relay_instances WHERE last_seen > now() - make_interval(secs => $2::double precision / 1000)`,
      [instanceId, instanceTtlMs],
    );
    const live = Math.max(1, rows[0]?.live ?? 1);
    const share = Math.ceil(OUTBOX_BUCKETS / live);
    if (this.owned.size > share) {
      const extra = this.ownedBuckets.slice(share);
      await client.query(`SELECT pg_advisory_unlock($1, b) FROM unnest($2::int[]) AS b`, [this.lockClass, extra]);
      for (const b of extra) this.owned.delete(b);
    } else if (this.owned.size < share) {
      const candidates = Array.from({ length: OUTBOX_BUCKETS }, (_, b) => b).filter((b) => !this.owned.has(b));
      // Start at an instance-specific offset so instances starting together do not all fight for bucket 0.
      const offset = hashString(instanceId) % OUTBOX_BUCKETS;
      candidates.sort(
        (a, b) => ((a - offset + OUTBOX_BUCKETS) % OUTBOX_BUCKETS) - ((b - offset + OUTBOX_BUCKETS) % OUTBOX_BUCKETS),
      );
      for (const bucket of candidates) {
        if (this.owned.size >= share) break;
        const { rows: got } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock($1, $2) AS ok`, [
          this.lockClass,
          bucket,
        ]);
        if (got[0]?.ok) {
          this.owned.add(bucket);
          await this.recover(bucket);
        }
      }
    }
    this.options.observer?.bucketsOwned(this.owned.size);
    this.lastRebalance = Date.now();
  }

  /** A bucket taken over with a batch in flight: those rows are sent again; count them as duplicates. */
  private async recover(bucket: number): Promise<void> {
    const { rows } = await this.client!.query<{ n: number }>(
      `SELECT count(o.*)::int AS n FROM relay_cursor c
         JOIN outbox o ON o.bucket = c.bucket
          AND (o.tx_id, o.position) > (c.tx_id, c.position)
          AND (o.tx_id, o.position) <= (c.inflight_tx, c.inflight_pos)
        WHERE c.bucket = $1 AND c.inflight_tx IS NOT NULL`,
      [bucket],
    );
    const n = rows[0]?.n ?? 0;
    if (n > 0) {
      this.options.observer?.resentAfterRecovery(n);
      this.options.log?.warn({
        message: 'bucket recovered with a batch in flight; re-sending it',
        bucket,
        messages: n,
      });
    }
  }

  private async publishBatch(): Promise<number> {
    const client = this.client!;
    const now = Date.now();
    const buckets = this.ownedBuckets.filter((b) => (this.stalled.get(b)?.until ?? 0) <= now);
    if (buckets.length === 0) return 0;
    // One round trip reads the batch and notes its end per bucket as "in flight" (see recover()).
    const { rows } = await client.query<Row>(
      `WITH batch AS (
         SELECT o.position, o.tx_id, o.bucket, o.event_id, o.topic, o.message_key, o.headers, o.value, o.created_at
           FROM relay_cursor c
           CROSS JOIN LATERAL (
             SELECT * FROM outbox o
              WHERE o.bucket = c.bucket
                AND (o.tx_id, o.position) > (c.tx_id, c.position)
                AND o.tx_id < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY o.tx_id, o.position
              LIMIT $2) o
          WHERE c.bucket = ANY($1::smallint[])
          ORDER BY o.tx_id, o.position
          LIMIT $2),
       ends AS (
         SELECT DISTINCT ON (bucket) bucket, tx_id, position FROM batch ORDER BY bucket, tx_id DESC, position DESC),
       mark AS (
         UPDATE relay_cursor c SET inflight_tx = ends.tx_id, inflight_pos = ends.position
           FROM ends WHERE c.bucket = ends.bucket)
       SELECT b.position, b.tx_id::text AS tx_id, b.bucket, b.event_id, b.topic, b.message_key, b.headers, b.value,
              extract(epoch FROM clock_timestamp() - b.created_at)::float8 AS age_seconds
         FROM batch b ORDER BY b.tx_id, b.position`,
      [buckets, this.narrowTo ?? this.options.batchSize],
    );
    if (rows.length === 0) return 0;
    const readAt = performance.now();

    const ends = batchEnds(rows);
    try {
      await this.options.producer.sendBatch({ topicMessages: toTopicMessages(rows), acks: -1 });
    } catch (error) {
      throw new PublishFailed(error, rows);
    }
    this.narrowTo = undefined;
    for (const e of ends) this.stalled.delete(e.bucket);
    const { rowCount } = await client.query(
      `UPDATE relay_cursor c SET tx_id = e.tx_id, position = e.position, inflight_tx = NULL, inflight_pos = NULL,
              published = c.published + e.n, updated_at = now()
         FROM unnest($1::smallint[], $2::xid8[], $3::bigint[], $4::int[]) AS e(bucket, tx_id, position, n)
        WHERE c.bucket = e.bucket`,
      [ends.map((e) => e.bucket), ends.map((e) => e.txId), ends.map((e) => e.position), ends.map((e) => e.count)],
    );
    if (rowCount !== ends.length) throw new Error('relay cursor rows are missing');
    // Age when read, plus the time to Kafka's acknowledgement: row written → acknowledged.
    const sinceRead = (performance.now() - readAt) / 1000;
    const ageAtAck = rows.map((r) => r.age_seconds + sinceRead);
    this.options.observer?.published(rows.length, ageAtAck);
    return rows.length;
  }

  /**
   * Deletes published rows in small batches (never a DELETE storm): one instance at a time, a bounded number of
   * rows per round.
   */
  private async cleanup(): Promise<void> {
    this.lastCleanup = Date.now();
    const client = this.client!;
    const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock($1, -1) AS ok`, [this.lockClass]);
    if (!rows[0]?.ok) return;
    try {
      await client.query(
        `DELETE FROM outbox WHERE position IN (
           SELECT o.position FROM relay_cursor c
             JOIN outbox o ON o.bucket = c.bucket AND (o.tx_id, o.position) <= (c.tx_id, c.position)
            LIMIT $1)`,
        [this.options.cleanupBatch],
      );
    } finally {
      await client.query(`SELECT pg_advisory_unlock($1, -1)`, [this.lockClass]);
    }
  }
}

/** A batch Kafka did not take, with the rows it held, so the log names them. */
class PublishFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly rows: readonly Row[],
  ) {
    super(`publishing ${rows.length} outbox rows failed: ${String(cause)}`);
  }
}

function describeRow(row: Row) {
  return {
    eventId: row.event_id,
    topic: row.topic,
    key: row.message_key,
    bucket: row.bucket,
    position: row.position,
    bytes: Buffer.byteLength(row.value),
  };
}

function batchEnds(rows: Row[]) {
  const ends = new Map<number, { bucket: number; txId: string; position: string; count: number }>();
  for (const r of rows) {
    const e = ends.get(r.bucket);
    ends.set(r.bucket, { bucket: r.bucket, txId: r.tx_id, position: r.position, count: (e?.count ?? 0) + 1 });
  }
  return [...ends.values()];
}

/** Grouped by topic, in outbox order: per key (one partition), Kafka receives them in that order. */
function toTopicMessages(rows: Row[]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const r of rows) {
    let t = byTopic.get(r.topic);
    if (!t) byTopic.set(r.topic, (t = { topic: r.topic, messages: [] }));
    t.messages.push({ key: r.message_key, value: r.value, headers: r.headers });
  }
  return [...byTopic.values()];
}

function hashString(s: string): number {
  let h = 0;
  for (const c of s) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return h;
}

export function isRetriable(error: unknown): boolean {
  const e = error as { retriable?: boolean; originalError?: { retriable?: boolean }; name?: string };
  if (typeof e?.retriable === 'boolean') return e.retriable || e.name === 'KafkaJSNumberOfRetriesExceeded';
  return true;
}

function isConnectionError(error: unknown): boolean {
  const message = String((error as { message?: string })?.message ?? error);
  const code = (error as { code?: string })?.code ?? '';
  return (
    /Connection terminated|ECONNRESET|ECONNREFUSED|not queryable|Client has encountered a connection error|terminating connection/i.test(
      message,
    ) ||
    code.startsWith('08') ||
    code === '57P01'
  );
}
