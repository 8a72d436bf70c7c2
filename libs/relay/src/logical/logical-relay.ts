import { Client, type ClientConfig } from 'pg';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import type { Landed, MessageProducer } from '@event-spine/kafka';
import { OUTBOX_BUCKETS } from '@event-spine/outbox';
import { relayCleaner, type OutboxCleaner } from '../outbox-cleaner';
import type { RelayLog, RelayObserver } from '../outbox-relay';
import { insertPlacements, placements, placementValues } from '../placements';
import { lsnOf, lsnText, parseSnapshot, takeTransactions, visibleIn, type Snapshot } from './wal';

export interface LogicalRelayOptions {
  /** The command service's database; it must run with `wal_level = logical`, and the role may replicate. */
  database: ClientConfig;
  schema: string;
  producer: MessageProducer;
  /** Names the replication slot and the publication (one per outbox); `spine_outbox_<schema>` unless set. */
  slot?: string;
  /** Rows per Kafka send (whole transactions: a bigger one goes alone). */
  batchSize: number;
  /** How often a standby instance tries to become the active one. */
  standbyRetryMs: number;
  waitForFlush?: boolean;
  cleanupIntervalMs: number;
  cleanupBatch: number;
  publishedRetentionMs?: number;
  observer?: RelayObserver;
  log?: RelayLog;
}

interface Row {
  position: string;
  tx_id: string;
  event_id: string;
  topic: string;
  message_key: string;
  headers: Record<string, string>;
  value: string;
  created_at: Date;
}

/** A committed transaction's outbox rows, and where its commit record ends (what the slot is confirmed up to). */
interface Committed {
  rows: Row[];
  end: bigint;
}

/**
 * Publishes the outbox from the WAL (logical replication, `pgoutput`) instead of polling the table: transactions
 * arrive in commit order, so no older transaction in flight holds a row back and no read of the table is made per
 * batch. Per subject, commit order is sequence order (the command side locks its subjects before its first write).
 *
 * One instance publishes at a time: the active one holds a session advisory lock and every bucket's lock of the
 * polling relay, so a polling instance of the same outbox cannot publish beside it. Others wait and retry; when the
 * active one dies, its connections and locks go, and another starts from the slot's confirmed position.
 *
 * Hand-off: rows committed before the slot existed are not in its stream. Right after making the slot the relay takes
 * a snapshot (kept in `relay_logical`); rows of transactions visible in it are published from the table, bucket by
 * bucket from the polling cursors (so what a polling relay published is not sent again), and the stream leaves those
 * transactions out. Every other transaction committed after the slot's consistent point, so the stream carries it.
 * Whatever this mode publishes is deleted from the outbox once Kafka took it (the cursors stay the polling relay's),
 * so the rows past the cursors are the ones still to publish, in either mode.
 *
 * Crash safety: the slot is confirmed past a batch only after Kafka took it and its bookkeeping (where its events
 * landed; its rows deleted) committed; the next turn streams from the confirmed position, so what a crash
 * interrupts is sent again: at least once, in order. The slot outlives the process, as a consumer's offsets do: while
 * no relay runs it keeps the server from recycling WAL.
 *
 * Not (yet) as the polling relay: a row Kafka refuses for good stops publishing (logged, retried with backoff)
 * instead of holding back its bucket alone.
 */
export class LogicalRelay {
  private running = false;
  private loopDone?: Promise<void>;
  private client?: Client;
  private service?: LogicalReplicationService;
  private readonly cleaner: OutboxCleaner;
  private readonly slot: string;
  private wake?: () => void;
  private active = false;
  /** Wakes the sender of the stream running now (to stop). */
  private interrupt?: () => void;

  constructor(private readonly options: LogicalRelayOptions) {
    this.slot = options.slot ?? defaultSlotName(options.schema);
    this.cleaner = relayCleaner(options);
  }

  /** Every bucket while this instance is the active one; none while it stands by. */
  get ownedBuckets(): number[] {
    return this.active ? Array.from({ length: OUTBOX_BUCKETS }, (_, b) => b) : [];
  }

  /** Fails at once if the database cannot do logical replication: a configuration error, not something to retry. */
  async start(): Promise<void> {
    const probe = new Client(this.options.database);
    await probe.connect();
    try {
      const { rows } = await probe.query<{ wal_level: string }>(`SHOW wal_level`);
      if (rows[0]?.wal_level !== 'logical')
        throw new Error(
          `RELAY_MODE=logical needs wal_level = logical on the command database (it is ${rows[0]?.wal_level})`,
        );
    } finally {
      await probe.end();
    }
    this.running = true;
    this.loopDone = this.loop();
    this.cleaner.start();
  }

  async stop(): Promise<void> {
    // The batch in flight finishes and is confirmed; then the loop stops the stream and lets the locks go.
    this.running = false;
    this.wake?.();
    this.interrupt?.();
    await Promise.all([this.loopDone, this.cleaner.stop()]);
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const active = await this.session();
        failures = active ? 0 : failures;
        if (!active) await this.sleep(this.options.standbyRetryMs);
      } catch (error) {
        failures++;
        this.options.observer?.publishFailed(true);
        this.options.log?.[failures > 3 ? 'error' : 'warn']({
          message: 'logical relay failed; starting over from the slot',
          error: String(error),
          failures,
        });
        await this.sleep(Math.min(100 * 2 ** Math.min(failures, 8), 10_000));
      } finally {
        await this.service?.stop().catch(() => undefined);
        this.service = undefined;
        await this.client?.end().catch(() => undefined);
        this.client = undefined;
        this.active = false;
        this.options.observer?.bucketsOwned(0);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One turn as the active instance: returns false at once when another instance is active. */
  private async session(): Promise<boolean> {
    const flush = this.options.waitForFlush === true ? '' : ' -c synchronous_commit=off';
    const client = new Client({
      ...this.options.database,
      options: `-c search_path=${this.options.schema} -c jit=off${flush}`,
    });
    client.on('error', (error) => this.options.log?.warn({ message: 'relay connection error', error: String(error) }));
    await client.connect();
    this.client = client;
    if (!(await this.becomeActive(client))) return false;
    this.active = true;
    this.options.observer?.bucketsOwned(OUTBOX_BUCKETS);
    const { snapshot, handedOff } = await this.prepareSlot(client);
    if (!handedOff && (await this.publishHandoff(client, snapshot)))
      await client.query(`UPDATE relay_logical SET handed_off = true WHERE slot = $1`, [this.slot]);
    if (this.running) await this.stream(client, snapshot);
    return true;
  }

  /** The active lock, then every bucket of the polling relay (released again if a polling instance holds one). */
  private async becomeActive(client: Client): Promise<boolean> {
    const schema = this.options.schema;
    const { rows } = await client.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_lock(hashtext('spine-relay-logical:' || $1)) AS ok`,
      [schema],
    );
    if (!rows[0]?.ok) return false;
    const { rows: buckets } = await client.query<{ held: number }>(
      `SELECT count(*) FILTER (WHERE pg_try_advisory_lock(hashtext('spine-relay:' || $1), b))::int AS held
         FROM generate_series(0, ${OUTBOX_BUCKETS - 1}) AS b`,
      [schema],
    );
    if (buckets[0]?.held === OUTBOX_BUCKETS) return true;
    this.options.log?.warn({
      message: 'a polling relay publishes this outbox: the logical relay waits until it has stopped',
      bucketsHeldElsewhere: OUTBOX_BUCKETS - (buckets[0]?.held ?? 0),
    });
    await client.query(`SELECT pg_advisory_unlock_all()`);
    return false;
  }

  /**
   * The publication and the slot, made if missing, with the hand-off snapshot taken right after the slot is made. The
   * slot is made again when it has no recorded snapshot (a crash in between: it was never read from), or when a
   * polling relay published since it was made (it would send all that again).
   */
  private async prepareSlot(client: Client): Promise<{ snapshot: Snapshot; handedOff: boolean }> {
    const slot = this.slot;
    const { rows: publications } = await client.query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [slot]);
    if (publications.length === 0)
      await client.query(`CREATE PUBLICATION "${slot}" FOR TABLE outbox WITH (publish = 'insert')`);
    const { rows: state } = await client.query<{
      exists: boolean;
      mark: string;
      handoff?: string;
      handed_off?: boolean;
      recorded_mark?: string;
    }>(
      `SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1) AS exists,
              (SELECT sum(published)::text FROM relay_cursor) AS mark,
              l.handoff::text AS handoff, l.handed_off, l.cursor_mark::text AS recorded_mark
         FROM (SELECT 1) AS one LEFT JOIN relay_logical l ON l.slot = $1`,
      [slot],
    );
    const { exists, mark, handoff, handed_off, recorded_mark } = state[0];
    if (exists && handoff !== undefined && handoff !== null && recorded_mark === mark)
      return { snapshot: parseSnapshot(handoff), handedOff: handed_off === true };
    if (exists) await client.query(`SELECT pg_drop_replication_slot($1)`, [slot]);
    // Waits for the transactions running now to end: every later commit is in the slot's stream.
    await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
    const { rows } = await client.query<{ handoff: string }>(
      `INSERT INTO relay_logical (slot, handoff, cursor_mark) VALUES ($1, pg_current_snapshot(), $2)
       ON CONFLICT (slot) DO UPDATE
         SET handoff = EXCLUDED.handoff, handed_off = false, cursor_mark = EXCLUDED.cursor_mark, created_at = now()
       RETURNING handoff::text AS handoff`,
      [slot, mark],
    );
    this.options.log?.info({ message: 'replication slot made; publishing what came before it from the table', slot });
    return { snapshot: parseSnapshot(rows[0].handoff), handedOff: false };
  }

  /**
   * Rows of transactions visible in the hand-off snapshot, past what a polling relay published (its cursors), in
   * (tx_id, position) order per bucket. Each batch's rows are deleted once Kafka took them, as streamed ones are; the
   * cursors stay the polling relay's: a row the stream carried can have a lower transaction id than one handed off,
   * so a cursor moved here would pass over it if a crash left it in the outbox.
   */
  private async publishHandoff(client: Client, snapshot: Snapshot): Promise<boolean> {
    const text = `${snapshot.xmin}:${snapshot.xmax}:${[...snapshot.inFlight].join(',')}`;
    let open = Array.from({ length: OUTBOX_BUCKETS }, (_, b) => b);
    while (this.running && open.length > 0) {
      const quota = Math.max(8, Math.ceil(this.options.batchSize / open.length));
      const { rows } = await client.query<Row & { bucket: number }>(
        `SELECT o.bucket, o.position::text AS position, o.tx_id::text AS tx_id, o.event_id, o.topic, o.message_key,
                o.headers, o.value, o.created_at
           FROM unnest($1::smallint[]) AS b(bucket)
           JOIN relay_cursor c ON c.bucket = b.bucket
          CROSS JOIN LATERAL (
            SELECT * FROM outbox o
             WHERE o.bucket = b.bucket AND (o.tx_id, o.position) > (c.tx_id, c.position)
               AND pg_visible_in_snapshot(o.tx_id, $2::pg_snapshot)
             ORDER BY o.tx_id, o.position LIMIT $3) o
          ORDER BY o.bucket, o.tx_id, o.position`,
        [open, text, quota],
      );
      const counts = new Map<number, number>();
      for (const r of rows) counts.set(r.bucket, (counts.get(r.bucket) ?? 0) + 1);
      open = open.filter((b) => (counts.get(b) ?? 0) >= quota);
      if (rows.length === 0) break;
      const landed = await this.sendUntilTaken(rows, () => this.running);
      if (!landed) return false;
      await this.recordAndDelete(client, rows, landed);
    }
    return this.running;
  }

  /** Where the rows' events landed, and the rows gone from the outbox, in one statement. */
  private async recordAndDelete(client: Client, rows: readonly Row[], landed: (Landed | undefined)[]): Promise<void> {
    await client.query(
      `WITH placed AS (${insertPlacements(1)}) DELETE FROM outbox WHERE position = ANY($5::bigint[])`,
      [...placementValues(placements(rows, landed)), rows.map((r) => r.position)],
    );
    this.observePublished(rows);
  }

  /**
   * Streams the slot until the relay stops or something fails. Transactions are queued as their commits arrive; a
   * sender takes whole transactions up to the batch size and sends them while the stream goes on. A sent batch's
   * bookkeeping (where its events landed, its rows deleted) runs while Kafka takes the next one; the slot is
   * confirmed past a batch once its bookkeeping committed.
   */
  private async stream(client: Client, handoff: Snapshot): Promise<void> {
    const queue: Committed[] = [];
    /** Rows decoded and not yet confirmed: queued, being sent, or in bookkeeping. */
    let pending = 0;
    /** Batches sent whose bookkeeping or confirmation is not done. */
    let unconfirmed = 0;
    let current: Row[] | undefined;
    let failed: unknown;
    let waiting: (() => void)[] = [];
    const signal = () => {
      const woken = waiting;
      waiting = [];
      for (const wake of woken) wake();
    };
    const waitForSignal = () => new Promise<void>((resolve) => waiting.push(resolve));
    this.interrupt = signal;
    const { rows: slots } = await client.query<{ confirmed: string | null }>(
      `SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1`,
      [this.slot],
    );
    /** Where the slot is confirmed to; moved past WAL without outbox rows when nothing is pending. */
    let confirmed = slots[0]?.confirmed ? lsnOf(slots[0].confirmed) : 0n;
    let lastSeen = 0n;

    const service = new LogicalReplicationService(
      { ...this.options.database, application_name: 'outbox-relay-logical' },
      // No timed acknowledgement: it would confirm what was received, not what Kafka took.
      { acknowledge: { auto: false, timeoutSeconds: 0 } },
    );
    this.service = service;
    // Backpressure: the socket is paused while many rows wait, so a backlog is not decoded into memory. The library
    // has no public pause (its flow control awaits a promise per message); without its socket, nothing pauses.
    const socket = () =>
      (service as unknown as { _connection?: { stream?: { pause(): void; resume(): void } } })._connection?.stream;
    const limit = 4 * this.options.batchSize;
    let paused = false;
    const schema = this.options.schema;
    service.on('data', (lsn: string, message: PgoutputMessage) => {
      lastSeen = lsnOf(lsn);
      switch (message.tag) {
        case 'begin':
          current = [];
          return;
        case 'insert':
          if (message.relation.schema !== schema || message.relation.name !== 'outbox') return;
          if (!visibleIn(handoff, String(message.new.tx_id))) current?.push(message.new as unknown as Row);
          return;
        case 'commit':
          if (current && current.length > 0) {
            queue.push({ rows: current, end: lsnOf(message.commitEndLsn) });
            pending += current.length;
            if (pending > limit && !paused) {
              paused = true;
              socket()?.pause();
            }
            signal();
          }
          current = undefined;
          return;
        default:
          return;
      }
    });
    const roomAgain = () => {
      if (paused && pending <= limit / 2) {
        paused = false;
        socket()?.resume();
      }
    };

    /** Confirms the slot up to `confirmed` (the library's `acknowledge` sends one past the LSN it is given). */
    let sentLsn = 0n;
    const confirm = async (force: boolean) => {
      if (confirmed === 0n || (!force && confirmed <= sentLsn)) return;
      sentLsn = confirmed;
      await service.acknowledge(lsnText(confirmed - 1n));
    };
    service.on('heartbeat', async (lsn: string, _at: number, respond: boolean) => {
      // With nothing pending or open, the WAL up to the keepalive's position (what the server has decoded) holds
      // nothing for this slot: confirming it lets the server recycle WAL while the outbox is idle (the relay's own
      // bookkeeping writes WAL too).
      if (pending === 0 && unconfirmed === 0 && current === undefined)
        confirmed = maxLsn(confirmed, lsnOf(lsn), lastSeen);
      await confirm(respond);
    });
    service.on('error', (error: unknown) => {
      failed ??= error;
      signal();
    });

    const streaming = service.subscribe(
      new PgoutputPlugin({ protoVersion: 1, publicationNames: [this.slot] }),
      this.slot,
    );
    void streaming.then(
      () => {
        failed ??= new Error('replication stream ended');
        signal();
      },
      (error: unknown) => {
        failed ??= error;
        signal();
      },
    );

    let bookkeeping: Promise<void> | undefined;
    try {
      while (this.running && failed === undefined) {
        if (queue.length === 0) {
          await waitForSignal();
          continue;
        }
        const batch = takeTransactions(queue, this.options.batchSize);
        const rows = batch.flatMap((tx) => tx.rows);
        unconfirmed++;
        const landed = await this.sendUntilTaken(rows, () => this.running && failed === undefined);
        if (!landed) break;
        // At most one batch in bookkeeping: the one before has run beside this send.
        await bookkeeping;
        const end = batch[batch.length - 1].end;
        bookkeeping = this.recordAndDelete(client, rows, landed).then(async () => {
          confirmed = maxLsn(confirmed, end);
          unconfirmed--;
          pending -= rows.length;
          roomAgain();
          await confirm(false);
        });
        // Its failure is thrown where it is awaited (before the next batch's bookkeeping, or at the end).
        bookkeeping.catch(() => undefined);
      }
      await bookkeeping;
    } finally {
      this.interrupt = undefined;
    }
    if (failed !== undefined && this.running)
      throw failed instanceof Error ? failed : new Error(`replication stream failed: ${JSON.stringify(failed)}`);
  }

  /** Sends until Kafka takes the rows (backing off), or `go()` turns false: then undefined, and nothing is confirmed. */
  private async sendUntilTaken(rows: Row[], go: () => boolean): Promise<(Landed | undefined)[] | undefined> {
    for (let failures = 1; go(); failures++) {
      try {
        return await this.send(rows);
      } catch (error) {
        this.options.observer?.publishFailed(true);
        this.options.log?.[failures > 3 ? 'error' : 'warn']({
          message: 'Kafka did not take a batch; sending it again (later transactions wait behind it)',
          error: String(error),
          failures,
          batchSize: rows.length,
          firstEventId: rows[0]?.event_id,
        });
        await this.sleep(Math.min(100 * 2 ** Math.min(failures, 8), 10_000));
      }
    }
    return undefined;
  }

  private send(rows: readonly Row[]): Promise<(Landed | undefined)[]> {
    return this.options.producer.send(
      rows.map((r) => ({ topic: r.topic, key: r.message_key, value: r.value, headers: r.headers })),
    );
  }

  private observePublished(rows: readonly Row[]): void {
    const now = Date.now();
    this.options.observer?.published(
      rows.length,
      rows.map((r) => (now - new Date(r.created_at).getTime()) / 1000),
    );
  }
}

/** What the library hands over per message, as far as the relay reads it. */
type PgoutputMessage =
  | { tag: 'begin' }
  | { tag: 'insert'; relation: { schema: string; name: string }; new: Record<string, unknown> }
  | { tag: 'commit'; commitEndLsn: string }
  | { tag: 'relation' | 'type' | 'origin' | 'update' | 'delete' | 'truncate' | 'message' };

function maxLsn(...lsns: bigint[]): bigint {
  return lsns.reduce((a, b) => (b > a ? b : a));
}

/** Slot and publication names allow lower-case letters, digits and underscores, 63 at most. */
export function defaultSlotName(schema: string): string {
  return `spine_outbox_${schema.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}
