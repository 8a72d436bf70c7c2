import { Client, type ClientConfig } from 'pg';
import type { Landed, MessageProducer } from '@event-spine/kafka';
import { notifiedBuckets, OUTBOX_BUCKETS, outboxChannel } from '@event-spine/outbox';
import { inSpan, linksFrom, SpanKind } from '@event-spine/observability';
import { withTransaction, WRITABLE_HORIZON } from '@event-spine/persistence';
import { BatchShares } from './batch-shares';
import { relayCleaner, type OutboxCleaner } from './outbox-cleaner';
import { insertPlacements, type Placement, placements, placementValues } from './placements';
import {
  DEFAULT_RETRIABLE_BOUND_MS,
  Holds,
  isRetriable,
  isRetriableRefusal,
  narrow,
  narrowed,
  rowFault,
  type Hold,
  type HoldReason,
  type Narrowing,
  type Probe,
} from './holdback';

export interface RelayOptions {
  /** Connection settings of the database that holds the outbox (the command service's). */
  database: ClientConfig;
  schema: string;
  /** Either adapter of the Kafka client port: idempotent, ordered per partition, bounded retries. */
  producer: MessageProducer;
  instanceId: string;
  batchSize: number;
  /** Longest sleep between polls when idle; a NOTIFY from the command service wakes the relay sooner. */
  maxIdleMs: number;
  /**
   * Whether the relay's commits wait for the WAL flush (false unless set). They need not: a database crash may take
   * back its last cursor moves and marks, and those rows are sent again, uncounted; never one skipped. Waiting puts a
   * flush between every read and its send.
   */
  waitForFlush?: boolean;
  /** How often the instance renews its heartbeat and rebalances buckets with the others. */
  rebalanceMs: number;
  /** An instance whose heartbeat is older than this is considered gone. */
  instanceTtlMs: number;
  cleanupIntervalMs: number;
  cleanupBatch: number;
  /** How long where each event landed on Kafka is kept for the causality query; 1 hour unless set. */
  publishedRetentionMs?: number;
  /**
   * How long Kafka may keep refusing a batch as retriable (no leader, too few replicas...) before the relay narrows it
   * down to the row at fault and holds back only that row's bucket. A missing topic is held back at once; an
   * unreachable broker is waited for, never isolated.
   */
  retriableBoundMs?: number;
  observer?: RelayObserver;
  log?: RelayLog;
}

export interface RelayObserver {
  published(count: number, commitToAckSeconds: number[]): void;
  resentAfterRecovery(count: number): void;
  publishFailed(retriable: boolean): void;
  bucketsOwned(count: number): void;
  /** A bucket was held back behind a row Kafka does not take: once per hold, not per retry. */
  heldBack(reason: HoldReason): void;
  /** Buckets this instance holds back now, per reason. */
  heldBuckets(counts: Readonly<Record<HoldReason, number>>): void;
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
 * one still in flight that could write the outbox (every in-flight one of the snapshot, except those pg_stat_activity
 * shows in another database), so a transaction that commits late is published late, never skipped.
 * The command side takes its subjects' locks before its first write, which makes tx_id order the sequence order of
 * every subject.
 *
 * Ownership: an instance owns a bucket while it holds a session advisory lock on it, on the one connection it also
 * reads and advances cursors with. If the process dies, PostgreSQL drops the connection and its locks, and another
 * instance takes the buckets over at its next rebalance (within `rebalanceMs`). If only the connection dies, the
 * cursor writes fail with it: an instance can never advance a cursor it no longer owns.
 *
 * Crash safety: the cursor moves only after Kafka acknowledged the batch. Before sending, the batch's end is noted as
 * "in flight"; after a crash, rows between the cursor and that mark are sent again and counted as duplicates. (Unless
 * `waitForFlush` is set, a crash of the database may also take back the last cursor moves and marks: those rows are
 * sent again too, uncounted.)
 *
 * A row Kafka does not take (its topic is missing, Kafka refuses it for good, or keeps refusing it as retriable
 * beyond `retriableBoundMs`) holds back its own bucket only, never skipped: see `holdback.ts`.
 */
export class OutboxRelay {
  private client?: Client;
  private running = false;
  private loopDone?: Promise<void>;
  private wake?: () => void;
  private readonly owned = new Set<number>();
  private lastRebalance = 0;
  private lockClass = 0;
  private pendingWake = false;
  /** A batch failed by a row's fault: it is being narrowed down to that row (see `narrow`). */
  private narrowing?: Narrowing;
  /** Buckets behind a row Kafka does not take: left out of the batches (never skipped), retried alone. */
  private readonly holds = new Holds<Row>();
  /** Since when Kafka has been refusing the batch as retriable, with no batch going through in between. */
  private refusingSince?: number;
  /** Where each owned bucket's next read starts: after the last of its rows Kafka acknowledged. */
  private readonly at = new Map<number, Position>();
  /** Batches Kafka acknowledged whose cursor moves are not written yet: they go with the next statement. */
  private unsaved: Acknowledged[] = [];
  /** When the oldest of `unsaved` was acknowledged. */
  private unsavedSince = 0;
  /** The next batch, read while Kafka was taking the one before; used if nothing changed the plan since. */
  private prefetched?: { reads: Reads; read: Read; full: boolean };
  /**
   * Buckets that may have rows to send: named by a wake-up, taken over, released from a hold, or left with rows
   * beyond the last read. A batch reads only these, and every bucket once per `maxIdleMs` in case a writer did not
   * say (a probe of all 64 buckets for every commit was most of the relay's database time at a steady rate).
   */
  private readonly dirty = new Set<number>();
  /** Per bucket, how many wake-ups named it: a read clears a bucket only if none came while it ran. */
  private readonly wakeups = new Uint32Array(OUTBOX_BUCKETS);
  private lastFullRead = 0;
  private readonly shares: BatchShares;
  private readonly cleaner: OutboxCleaner;

  constructor(private readonly options: RelayOptions) {
    this.shares = new BatchShares(options.batchSize);
    this.cleaner = relayCleaner(options);
  }

  get ownedBuckets(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    this.running = true;
    await this.connect();
    this.loopDone = this.loop();
    this.cleaner.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await Promise.all([this.loopDone, this.cleaner.stop()]);
    // What Kafka took is written down before the buckets are let go, so their next owner does not send it again.
    await this.save().catch(() => undefined);
    await this.disconnect(true);
  }

  private async connect(): Promise<void> {
    // No JIT: the relay's statements are small and frequent, and a cost estimate over a big backlog would compile them.
    // Unless `waitForFlush` is set, its commits do not wait for the WAL flush: the relay writes only its own bookkeeping
    // (cursors, in-flight marks, where events landed), and what a database crash takes back of it is rows sent again,
    // never rows skipped. The cleanup's DELETEs still wait for their flush, which carries every cursor move before
    // them: no row is deleted that a cursor still in the database has not passed.
    const flush = this.options.waitForFlush === true ? '' : ' -c synchronous_commit=off';
    const client = new Client({
      ...this.options.database,
      options: `-c search_path=${this.options.schema} -c jit=off${flush}`,
    });
    client.on('error', (error) => this.options.log?.warn({ message: 'relay connection error', error: String(error) }));
    client.on('notification', (message) => {
      this.markDirty(notifiedBuckets(message.payload));
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
    this.forgetOwnership();
    this.lastRebalance = 0;
  }

  /** Ownership went with the connection (or never was): nothing read, acknowledged or planned is ours to use. */
  private forgetOwnership(): void {
    this.owned.clear();
    this.at.clear();
    this.unsaved = [];
    this.prefetched = undefined;
    this.lastFullRead = 0;
  }

  /** These buckets (every one when not given) may have rows to send. */
  private markDirty(buckets: readonly number[] | undefined): void {
    for (const b of buckets ?? ALL_BUCKETS) {
      this.wakeups[b]++;
      this.dirty.add(b);
    }
  }

  private async disconnect(graceful: boolean): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.forgetOwnership();
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
    // The outbox is probed bucket by bucket, through its index: a scan of the whole table on every start would read a
    // big backlog from disk before the first row goes out.
    const probe = `SELECT EXISTS (SELECT 1 FROM relay_cursor WHERE tx_id >= ${future})
                       OR EXISTS (SELECT 1 FROM generate_series(0, ${OUTBOX_BUCKETS - 1}) AS b(bucket)
                                   CROSS JOIN LATERAL (SELECT 1 FROM outbox o
                                                        WHERE o.bucket = b.bucket::smallint AND o.tx_id >= ${future}
                                                        LIMIT 1) AS found) AS restored`;
    if (!(await client.query<{ restored: boolean }>(probe)).rows[0].restored) return;
    const moved = await withTransaction(client, async (tx) => {
      await tx.query('LOCK TABLE relay_cursor IN EXCLUSIVE MODE');
      if (!(await tx.query<{ restored: boolean }>(probe)).rows[0].restored) return undefined;
      const { rowCount } = await tx.query(`UPDATE outbox SET tx_id = '1'`);
      await tx.query(`UPDATE relay_cursor SET tx_id = '0', position = 0, inflight_tx = NULL, inflight_pos = NULL`);
      return rowCount;
    });
    if (moved === undefined) return;
    this.options.log?.warn({
      message: 'transaction ids went backwards (a restore into another cluster?): outbox order rebased',
      rowsToSend: moved,
    });
  }

  private async loop(): Promise<void> {
    let failures = 0;
    /** Since when buckets with rows to send found none to send (held back by an older transaction in flight). */
    let heldSince: number | undefined;
    while (this.running) {
      try {
        if (!this.client) await this.connect();
        if (Date.now() - this.lastRebalance >= this.options.rebalanceMs) await this.rebalance();
        const published = this.owned.size > 0 ? await this.publishBatch() : 0;
        failures = 0;
        if (published > 0) {
          heldSince = undefined;
          continue;
        }
        const now = Date.now();
        heldSince = this.hasDirty() ? (heldSince ?? now) : undefined;
        // Held-back rows wait for a transaction that need not be a writer's, nor in this database (the projector's, the
        // cleaner's, anyone's: transaction ids are the cluster's), so no wake-up comes when it ends. They are looked for
        // again after a quarter of the time they have waited: at most a quarter more than the holding transaction
        // lasted, in a few reads even for a long one. With none, the relay waits for a wake-up, or the next full read.
        const wait =
          heldSince !== undefined
            ? Math.min(Math.max(1, (now - heldSince) / 4), this.options.maxIdleMs)
            : Math.max(1, this.lastFullRead + this.options.maxIdleMs - now);
        await this.idle(Math.min(wait, Math.max(1, this.saveDueInMs() ?? wait)));
      } catch (error) {
        const failed = error instanceof PublishFailed ? error : undefined;
        const cause = failed ? failed.cause : error;
        const retriable = isRetriable(cause);
        this.options.observer?.publishFailed(retriable);
        // A fault of the rows narrows or holds back at once: that is progress, not a reason to wait.
        const fault = failed && this.onRowsFailed(failed);
        if (!fault) failures++;
        // A fault's own entry (the held row, at error level) is the one to act on; this is a step on the way.
        this.options.log?.[!fault && (failures > 3 || !retriable) ? 'error' : 'warn']({
          message: 'relay iteration failed; retrying',
          error: String(cause),
          retriable,
          failures,
          ...(fault && { fault }),
          ...(failed && { batchSize: failed.rows.length, rows: failed.rows.slice(0, 10).map(describeRow) }),
        });
        // Rows read may not have been sent: every bucket is read again.
        this.lastFullRead = 0;
        if (isConnectionError(error)) await this.disconnect(false);
        await this.idle(fault ? 0 : Math.min(100 * 2 ** Math.min(failures, 8), 10_000));
      }
    }
  }

  /**
   * Order forbids skipping a row Kafka does not take, and dropping it would lose an event: when the failure is the
   * rows' fault (`rowFault`), the batch is halved until the row is alone, then only its bucket is held back and
   * tried again alone with a growing backoff, while every other bucket keeps flowing. Otherwise the same batch is
   * sent again after a backoff. Returns the fault, if it was one.
   */
  private onRowsFailed(failed: PublishFailed): HoldReason | undefined {
    const now = Date.now();
    if (failed.send === 'batch') {
      if (isRetriableRefusal(failed.cause)) this.refusingSince ??= failed.startedAt;
      else this.refusingSince = undefined;
    }
    const fault = rowFault(failed.cause, {
      refusingForMs: now - (this.refusingSince ?? now),
      boundMs: this.options.retriableBoundMs ?? DEFAULT_RETRIABLE_BOUND_MS,
      suspect: failed.send !== 'batch',
    });
    if (!fault) {
      // A held row's retry that fails for another reason (Kafka away, a timeout) still waits its turn: left due, it
      // would be retried before every batch and keep the free buckets from being sent at all.
      const held = failed.send === 'held' && failed.rows[0] ? this.holds.holdOf(failed.rows[0].bucket) : undefined;
      if (held) this.holdBack(failed.rows[0], held.reason, String(failed.cause), now);
      return undefined;
    }
    this.refusingSince = undefined;
    const topic =
      fault === 'unknown-topic' && failed.send !== 'held'
        ? this.holds.blameTopic(failed.rows, String(failed.cause), now)
        : undefined;
    if (topic !== undefined) {
      this.narrowing = undefined;
      this.options.log?.warn({
        message: 'Kafka does not know a topic: each bucket is held back at its first row for it',
        topic,
        error: String(failed.cause),
      });
      return fault;
    }
    this.narrowing = narrow(failed.rows, fault);
    if (!this.narrowing) this.holdBack(failed.rows[0], fault, String(failed.cause), now);
    return fault;
  }

  private holdBack(row: Row, reason: HoldReason, error: string, now: number): void {
    const { hold, fresh } = this.holds.hold(row, reason, error, now);
    if (fresh) this.options.observer?.heldBack(reason);
    this.reportHolds();
    this.options.log?.[fresh ? 'error' : 'warn']({
      message: fresh
        ? 'an outbox row cannot be published: its bucket is held back (not skipped) and retried'
        : 'a held-back outbox row still cannot be published',
      ...describeRow(row),
      reason,
      error,
      failures: hold.failures,
      retryInMs: Math.max(0, hold.until - now),
    });
  }

  private released(holds: Hold<Row>[], why: string): void {
    if (holds.length === 0) return;
    this.markDirty(holds.map((h) => h.row.bucket));
    this.reportHolds();
    const now = Date.now();
    for (const { row, reason, since } of holds)
      this.options.log?.info({ message: why, ...describeRow(row), reason, heldMs: now - since });
  }

  private reportHolds(): void {
    this.options.observer?.heldBuckets(this.holds.counts());
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
      // Cursors are written only while their buckets are ours.
      await this.save();
      this.prefetched = undefined;
      await client.query(`SELECT pg_advisory_unlock($1, b) FROM unnest($2::int[]) AS b`, [this.lockClass, extra]);
      for (const b of extra) {
        this.owned.delete(b);
        this.at.delete(b);
        this.shares.forget(b);
      }
    } else if (this.owned.size < share) {
      const candidates = ALL_BUCKETS.filter((b) => !this.owned.has(b));
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
    this.released(this.holds.keepOnly(this.owned), 'bucket given up while held back; its new owner retries it');
    this.lastRebalance = Date.now();
  }

  /**
   * A bucket taken over: reads start at its cursor. With a batch in flight, those rows are sent again; count them as
   * duplicates.
   */
  private async recover(bucket: number): Promise<void> {
    const { rows } = await this.client!.query<{ tx_id: string; position: string; n: number }>(
      `SELECT c.tx_id::text AS tx_id, c.position::text AS position,
              (SELECT count(*)::int FROM outbox o
                WHERE c.inflight_tx IS NOT NULL AND o.bucket = c.bucket
                  AND (o.tx_id, o.position) > (c.tx_id, c.position)
                  AND (o.tx_id, o.position) <= (c.inflight_tx, c.inflight_pos)) AS n
         FROM relay_cursor c WHERE c.bucket = $1`,
      [bucket],
    );
    if (!rows[0]) throw new Error(`relay cursor row of bucket ${bucket} is missing`);
    this.at.set(bucket, { txId: rows[0].tx_id, position: rows[0].position });
    this.markDirty([bucket]);
    const n = rows[0].n;
    if (n > 0) {
      this.options.observer?.resentAfterRecovery(n);
      this.options.log?.warn({
        message: 'bucket recovered with a batch in flight; re-sending it',
        bucket,
        messages: n,
      });
    }
  }

  /**
   * One send: the next step of a narrowing, else a held bucket that is due (alone), else a batch of every other
   * bucket. While Kafka takes a batch, the next one is read (and the one before written down) in one statement, so
   * the database and Kafka work at the same time. Returns how many rows it published or held back (either is
   * progress).
   */
  private async publishBatch(): Promise<number> {
    const send = this.nextSend();
    if (!send) {
      if (this.saveDueInMs() === 0) await this.save();
      return 0;
    }
    const reads = this.readsOf(send.probe);
    const { rows: read, more } = this.takePrefetched(reads) ?? (await this.query(reads));
    if (send.kind === 'batch') this.settleDirty(reads, more, send.full);
    if (send.kind === 'held' && read.length === 0) {
      // Its row is gone from the outbox (deleted by hand): nothing is left to wait for.
      const gone = this.holds.release(send.probe.reads[0].bucket);
      if (gone) this.released([gone], 'held-back outbox row is gone (deleted); its bucket flows again');
      return 0;
    }
    if (send.kind === 'batch') this.shares.read(reads.buckets, reads.limits, countByBucket(read));
    // A retried held row goes as it is: it is the one question the retry asks.
    const { send: rows, held } = send.kind === 'held' ? { send: read, held: [] } : this.holds.screen(read);
    const now = Date.now();
    for (const { row, error } of held) this.holdBack(row, 'unknown-topic', error, now);
    if (rows.length > 0) {
      const readAt = performance.now();
      const startedAt = Date.now();
      // One span per send, linked to the command of every row in it (the trace context each row carries).
      const span = {
        kind: SpanKind.PRODUCER,
        links: linksFrom(rows.map((r) => r.headers)),
        attributes: { 'messaging.system': 'kafka', 'messaging.batch.message_count': rows.length },
      };
      await inSpan('relay publish', span, async () => {
        const sending = this.options.producer.send(
          rows.map((r) => ({ topic: r.topic, key: r.message_key, value: r.value, headers: r.headers })),
        );
        const ahead = send.kind === 'batch' ? this.prefetch(endsOf(rows)) : undefined;
        let acknowledged: (Landed | undefined)[];
        try {
          acknowledged = await sending;
        } catch (error) {
          await ahead;
          this.prefetched = undefined;
          throw new PublishFailed(error, rows, send.kind, startedAt);
        }
        this.acknowledged(rows, placements(rows, acknowledged));
        const next = await ahead;
        if (next instanceof Error) throw next;
        this.prefetched = next;
      });
      // Age when read, plus the time to Kafka's acknowledgement: row written → acknowledged.
      const sinceRead = (performance.now() - readAt) / 1000;
      this.options.observer?.published(
        rows.length,
        rows.map((r) => r.age_seconds + sinceRead),
      );
      this.released(this.holds.published(rows), 'held-back outbox row published; its bucket flows again');
    }
    if (send.kind === 'batch') this.refusingSince = undefined;
    if (send.kind === 'narrow' && this.narrowing) this.narrowing = narrowed(this.narrowing);
    return rows.length + held.length;
  }

  private nextSend(): { kind: Send; probe: Probe; full?: boolean } | undefined {
    if (this.narrowing) {
      const reads = this.narrowing.probe.reads.filter((r) => this.owned.has(r.bucket));
      if (reads.length > 0) return { kind: 'narrow', probe: { reads } };
      this.narrowing = undefined;
    }
    const due = this.holds.due(Date.now());
    if (due !== undefined) return { kind: 'held', probe: { reads: [{ bucket: due, limit: 1 }] } };
    const free = this.ownedBuckets.filter((b) => !this.holds.isHeld(b));
    // A read of every bucket falling due while the next batch was read ahead waits for the one after: planned now, it
    // would throw the read-ahead away (under a backlog, every other batch).
    const full = this.prefetched?.full ?? Date.now() - this.lastFullRead >= this.options.maxIdleMs;
    const buckets = full ? free : free.filter((b) => this.dirty.has(b));
    if (buckets.length === 0) return undefined;
    // A bucket named by a wake-up may have more than it found last time: each of a few gets an even share at least.
    const limits = this.shares.plan(buckets, { evenAtLeast: !full });
    return { kind: 'batch', probe: { reads: buckets.map((bucket, i) => ({ bucket, limit: limits[i] })) }, full };
  }

  private hasDirty(): boolean {
    for (const b of this.dirty) if (this.owned.has(b) && !this.holds.isHeld(b)) return true;
    return false;
  }

  /**
   * After a batch's read: a bucket read to its end (no row beyond its share, none held back by an older transaction)
   * is clean, unless a wake-up named it while the read ran (its rows may have committed after the read's snapshot).
   */
  private settleDirty(reads: Reads, more: readonly number[], full: boolean | undefined): void {
    if (full) this.lastFullRead = Date.now();
    const beyond = new Set(more);
    reads.buckets.forEach((b, i) => {
      if (beyond.has(b) || this.wakeups[b] !== reads.wakeups[i]) this.dirty.add(b);
      else this.dirty.delete(b);
    });
  }

  /** A probe's reads, each bucket from where it stands (or from `after`, for the batch after one being sent). */
  private readsOf(probe: Probe, after?: ReadonlyMap<number, Position>): Reads {
    const buckets = probe.reads.map((r) => r.bucket);
    const from = buckets.map((b) => after?.get(b) ?? this.at.get(b)!);
    const limits = probe.reads.map((r) => r.limit);
    const wakeups = buckets.map((b) => this.wakeups[b]);
    return { buckets, from, limits, wakeups, plan: planKey(buckets, from, limits) };
  }

  /**
   * Reads the batch that would follow `sent` once Kafka took it. Used only if, once it did, the next send is that
   * same batch (no hold released or taken, no bucket moved). Never throws: a failure comes back as the value.
   */
  private prefetch(
    sent: ReadonlyMap<number, Position>,
  ): Promise<{ reads: Reads; read: Read; full: boolean } | Error | undefined> {
    const next = this.nextSend();
    if (next?.kind !== 'batch') return Promise.resolve(undefined);
    const reads = this.readsOf(next.probe, sent);
    return this.query(reads).then(
      (read) => ({ reads, read, full: next.full ?? false }),
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** The prefetched read, if it is the one planned now; `reads` then carries the wake-ups counted when it ran. */
  private takePrefetched(reads: Reads): Read | undefined {
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    // An empty one is looked at again: rows may have come since, and the statement writes what is unsaved.
    if (prefetched?.reads.plan !== reads.plan || prefetched.read.rows.length === 0) return undefined;
    reads.wakeups = prefetched.reads.wakeups;
    return prefetched.read;
  }

  /** Kafka took these rows: their buckets' reads move past them; the cursor moves with the next statement. */
  private acknowledged(rows: Row[], placed: Placement[]): void {
    for (const [bucket, position] of endsOf(rows)) this.at.set(bucket, position);
    if (this.unsaved.length === 0) this.unsavedSince = Date.now();
    this.unsaved.push({ rows, placed });
  }

  /**
   * How long what Kafka took may wait for the next read to carry its cursor moves (each statement of the relay is a
   * write, and one per batch instead of two halves their cost at a steady rate); `undefined` with nothing to save.
   * Those rows are within their buckets' in-flight marks meanwhile: after a crash they are sent again, and counted.
   */
  private saveDueInMs(): number | undefined {
    if (this.unsaved.length === 0) return undefined;
    return Math.max(0, this.unsavedSince + Math.min(SAVE_WITHIN_MS, this.options.maxIdleMs) - Date.now());
  }

  /** Writes down what Kafka took, when nothing else is going to the database. */
  private async save(): Promise<void> {
    if (this.unsaved.length > 0 && this.client)
      await this.query({ buckets: [], from: [], limits: [], wakeups: [], plan: '' });
  }

  /**
   * One statement: moves the cursors of the batches Kafka took (recording where each event landed), reads the next
   * rows of each bucket (from a given position, at most its limit, and only from transactions older than the oldest
   * one still in flight), and notes the end of that read per bucket as in flight.
   */
  private async query(reads: Reads): Promise<Read> {
    const saving = this.unsaved;
    this.unsaved = [];
    const rowsSaved = saving.flatMap((a) => a.rows);
    const ends = [...endsOf(rowsSaved).entries()];
    const counts = countByBucket(rowsSaved);
    const placed = saving.flatMap((a) => a.placed);
    let result;
    try {
      result = await this.client!.query<Row & { saved: number; more: number[] | null }>({
        name: 'relay-step',
        text: RELAY_STEP,
        values: [
          reads.buckets,
          reads.from.map((p) => p.txId),
          reads.from.map((p) => p.position),
          reads.limits,
          ends.map(([b]) => b),
          ends.map(([, p]) => p.txId),
          ends.map(([, p]) => p.position),
          ends.map(([b]) => counts.get(b) ?? 0),
          ...placementValues(placed),
        ],
      });
    } catch (error) {
      this.unsaved = [...saving, ...this.unsaved];
      throw error;
    }
    if ((result.rows[0]?.saved ?? 0) !== ends.length) throw new Error('relay cursor rows are missing');
    return { rows: result.rows.filter((r) => r.position !== null), more: result.rows[0]?.more ?? [] };
  }
}

const ALL_BUCKETS: readonly number[] = Array.from({ length: OUTBOX_BUCKETS }, (_, b) => b);

/** The longest a cursor move waits to travel with the next read (see `saveDueInMs`). */
const SAVE_WITHIN_MS = 10;

/** What a send was: a batch of the free buckets, a step of a narrowing, or the retry of a held-back bucket. */
type Send = 'batch' | 'narrow' | 'held';

/** A send Kafka did not take, with the rows it held, so the log names them. */
class PublishFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly rows: readonly Row[],
    readonly send: Send,
    readonly startedAt: number,
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

interface Position {
  txId: string;
  position: string;
}

/** A batch's reads, as the statement's parameters, and a key telling whether two plans read the same rows. */
interface Reads {
  buckets: number[];
  from: Position[];
  limits: number[];
  /** Each bucket's count of wake-ups when the read was sent. */
  wakeups: number[];
  plan: string;
}

/** A read's rows, and the buckets it left rows beyond. */
interface Read {
  rows: Row[];
  more: number[];
}

interface Acknowledged {
  rows: Row[];
  placed: Placement[];
}

function planKey(buckets: number[], from: Position[], limits: number[]): string {
  return buckets.map((b, i) => `${b}:${from[i].txId}:${from[i].position}:${limits[i]}`).join(',');
}

/** The last row of each bucket (rows come in order within a bucket). */
function endsOf(rows: readonly Row[]): Map<number, Position> {
  const ends = new Map<number, Position>();
  for (const r of rows) ends.set(r.bucket, { txId: r.tx_id, position: r.position });
  return ends;
}

function countByBucket(rows: readonly Row[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const r of rows) counts.set(r.bucket, (counts.get(r.bucket) ?? 0) + 1);
  return counts;
}

/**
 * The relay's one statement per batch (see `OutboxRelay.query`). Each bucket is read by its own index scan that stops
 * at its limit; no global sort. A bucket's cursor row is written once: moved (saved), marked in flight, or both.
 */
const RELAY_STEP = `
  WITH placed AS (${insertPlacements(9)}),
  -- Rows are published only below the oldest transaction still in flight that could yet commit one (see
  -- WRITABLE_HORIZON: other databases' transactions are passed over).
  horizon AS MATERIALIZED (${WRITABLE_HORIZON}),
  batch AS (
    SELECT r.n, o.position, o.tx_id, o.bucket, o.event_id, o.topic, o.message_key, o.headers, o.value, o.created_at
      FROM unnest($1::smallint[], $2::xid8[], $3::bigint[], $4::int[]) WITH ORDINALITY AS r(bucket, tx_id, position, quota, n)
     CROSS JOIN LATERAL (
       SELECT * FROM outbox o
        WHERE o.bucket = r.bucket
          AND (o.tx_id, o.position) > (r.tx_id, r.position)
          AND o.tx_id < (SELECT below FROM horizon)
        ORDER BY o.tx_id, o.position
        LIMIT r.quota) o),
  ends AS (
    SELECT DISTINCT ON (bucket) bucket, tx_id, position FROM batch ORDER BY bucket, tx_id DESC, position DESC),
  -- The buckets with a row past what was read: their share was full, or an older transaction still in flight holds
  -- the row back. One more index probe per bucket read.
  more AS (
    SELECT r.bucket FROM unnest($1::smallint[], $2::xid8[], $3::bigint[]) AS r(bucket, tx_id, position)
      LEFT JOIN ends e ON e.bucket = r.bucket
     WHERE EXISTS (SELECT 1 FROM outbox o
                    WHERE o.bucket = r.bucket
                      AND (o.tx_id, o.position) > (coalesce(e.tx_id, r.tx_id), coalesce(e.position, r.position)))),
  saves AS (
    SELECT * FROM unnest($5::smallint[], $6::xid8[], $7::bigint[], $8::int[]) AS s(bucket, tx_id, position, n)),
  moved AS (
    UPDATE relay_cursor c
       SET tx_id = coalesce(s.tx_id, c.tx_id),
           position = coalesce(s.position, c.position),
           published = c.published + coalesce(s.n, 0),
           updated_at = CASE WHEN s.bucket IS NULL THEN c.updated_at ELSE now() END,
           inflight_tx = CASE WHEN e.bucket IS NOT NULL THEN e.tx_id
                              WHEN (c.inflight_tx, c.inflight_pos) <= (s.tx_id, s.position) THEN NULL
                              ELSE c.inflight_tx END,
           inflight_pos = CASE WHEN e.bucket IS NOT NULL THEN e.position
                               WHEN (c.inflight_tx, c.inflight_pos) <= (s.tx_id, s.position) THEN NULL
                               ELSE c.inflight_pos END
      FROM saves s FULL JOIN ends e ON e.bucket = s.bucket
     WHERE c.bucket = coalesce(s.bucket, e.bucket)
    RETURNING s.bucket IS NOT NULL AS saved)
  -- What the statement did comes on a row of its own, first: on every row, the client would parse it again per row.
  SELECT u.saved, u.more, u.position, u.tx_id::text AS tx_id, u.bucket, u.event_id, u.topic, u.message_key, u.headers,
         u.value, u.age_seconds
    FROM (SELECT NULL::bigint AS n, (SELECT count(*) FILTER (WHERE saved) FROM moved)::int AS saved,
                 (SELECT array_agg(bucket) FROM more) AS more, NULL::bigint AS position, NULL::xid8 AS tx_id,
                 NULL::smallint AS bucket, NULL::uuid AS event_id, NULL::text AS topic, NULL::text AS message_key,
                 NULL::jsonb AS headers, NULL::text AS value, NULL::float8 AS age_seconds
          UNION ALL
          SELECT b.n, NULL, NULL, b.position, b.tx_id, b.bucket, b.event_id, b.topic, b.message_key, b.headers, b.value,
                 extract(epoch FROM clock_timestamp() - b.created_at)::float8
            FROM batch b) u
   ORDER BY u.n NULLS FIRST, u.tx_id, u.position`;

function hashString(s: string): number {
  let h = 0;
  for (const c of s) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return h;
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
