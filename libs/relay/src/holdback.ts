/**
 * The relay's rules for a row Kafka will not take, kept free of I/O so they can be tested on their own: which
 * failures are the rows' fault, how a failed batch is narrowed down to the row at fault, and which buckets are held
 * back behind such a row and when they are tried again. The loop in `outbox-relay.ts` does the reading and sending.
 */

/** Why a bucket is held back. A short fixed list: it labels a metric, where topic names would not stay bounded. */
export const HOLD_REASONS = [
  /** Kafka called the error final (a message over the broker's size limit, say). */
  'refused',
  /** The broker does not know the row's topic; it is never created by the relay, so someone has to. */
  'unknown-topic',
  /** Kafka kept refusing the row as retriable for longer than the relay's bound. */
  'retrying-too-long',
] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

/** A few retry cycles of the producer: long enough for a leader election, short enough not to stall the others. */
export const DEFAULT_RETRIABLE_BOUND_MS = 5000;

const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 60_000;

export function holdBackoffMs(failures: number): number {
  return Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1));
}

interface KafkaErrorLike {
  name?: string;
  type?: unknown;
  retriable?: boolean;
  cause?: unknown;
  originalError?: unknown;
}

/** kafkajs wraps the broker's error (retries exceeded, non-retriable...); the broker's answer is further down. */
function causes(error: unknown): KafkaErrorLike[] {
  const chain: KafkaErrorLike[] = [];
  for (let e = error as KafkaErrorLike | undefined; e && typeof e === 'object' && chain.length < 8;) {
    if (chain.includes(e)) break;
    chain.push(e);
    e = (e.cause ?? e.originalError) as KafkaErrorLike | undefined;
  }
  return chain;
}

/** Errors of reaching Kafka, not of what was sent: kafkajs may still wrap them as non-retriable once it gives up. */
const UNREACHABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSLockTimeout',
  // The @platformatic/kafka adapter's name for the same (see @event-spine/kafka describeSendFailure).
  'KafkaUnreachable',
]);

/** Kafka could not be reached or did not answer: the same for every row, so only waiting helps. */
export function isKafkaAway(error: unknown): boolean {
  return causes(error).some((e) => e.name !== undefined && UNREACHABLE.has(e.name));
}

export function isRetriable(error: unknown): boolean {
  const e = error as KafkaErrorLike;
  if (isKafkaAway(error)) return true;
  if (typeof e?.retriable === 'boolean') return e.retriable || e.name === 'KafkaJSNumberOfRetriesExceeded';
  return true;
}

/**
 * The broker answered with a retriable error code (no leader, too few replicas...). An unreachable broker or a lost
 * connection is no answer: that is Kafka being away for every row, which only waiting helps.
 */
export function isRetriableRefusal(error: unknown): boolean {
  return isRetriable(error) && !isKafkaAway(error) && causes(error).some((e) => typeof e.type === 'string');
}

export function isUnknownTopic(error: unknown): boolean {
  return causes(error).some((e) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION');
}

/**
 * Whether a failed send is the fault of (some of) its rows, and why; undefined when it is Kafka's as a whole and the
 * same rows are simply sent again. A missing topic and a final refusal are the rows' fault at once; a retriable
 * refusal only once it has lasted `boundMs`, or at once while the rows are already suspects (a batch being narrowed
 * down, a bucket already held back).
 */
export function rowFault(
  error: unknown,
  context: { refusingForMs: number; boundMs: number; suspect: boolean },
): HoldReason | undefined {
  if (isUnknownTopic(error)) return 'unknown-topic';
  if (!isRetriable(error)) return 'refused';
  if (isRetriableRefusal(error) && (context.suspect || context.refusingForMs >= context.boundMs))
    return 'retrying-too-long';
  return undefined;
}

/** Rows to read for one send: the oldest `limit` rows of each of these buckets (each read from where it stands). */
export interface Probe {
  readonly reads: readonly { readonly bucket: number; readonly limit: number }[];
}

/** A binary search for the row at fault: `probe` is sent next; if Kafka takes it, `then` (the other half). */
export interface Narrowing {
  readonly probe: Probe;
  readonly then?: Probe;
  readonly reason: HoldReason;
}

/**
 * Splits a failed send in two. Whole buckets first, since a bucket is what gets held back, then the rows of the one
 * bucket left. Every read starts where a bucket's last acknowledged row left it, so a read of as many rows of each
 * bucket as the failed send had is the failed rows again, and one row left alone is its bucket's oldest: the one to
 * hold back. Undefined when it is alone already.
 */
export function narrow(rows: readonly { bucket: number }[], reason: HoldReason): Narrowing | undefined {
  if (rows.length <= 1) return undefined;
  const perBucket = new Map<number, number>();
  for (const r of rows) perBucket.set(r.bucket, (perBucket.get(r.bucket) ?? 0) + 1);
  const buckets = [...perBucket.keys()];
  const half = (list: number[]): Probe => ({
    reads: list.map((bucket) => ({ bucket, limit: perBucket.get(bucket)! })),
  });
  if (buckets.length > 1) {
    const cut = Math.ceil(buckets.length / 2);
    return { probe: half(buckets.slice(0, cut)), then: half(buckets.slice(cut)), reason };
  }
  const [bucket] = buckets;
  const first = Math.floor(rows.length / 2);
  return {
    probe: { reads: [{ bucket, limit: first }] },
    then: { reads: [{ bucket, limit: rows.length - first }] },
    reason,
  };
}

/** Kafka took the probe: the fault is in the other half, or (both taken) it went away. */
export function narrowed(narrowing: Narrowing): Narrowing | undefined {
  return narrowing.then && { probe: narrowing.then, reason: narrowing.reason };
}

export interface HeldRow {
  readonly bucket: number;
  readonly topic: string;
  readonly position: string;
}

export interface Hold<R extends HeldRow> {
  readonly row: R;
  readonly reason: HoldReason;
  readonly error: string;
  readonly since: number;
  readonly failures: number;
  /** When the bucket is tried again; for a missing topic, the topic's next try decides (see `due`). */
  readonly until: number;
}

/**
 * The buckets held back, each behind its oldest row, and the topics Kafka said it does not know. A held bucket is
 * left out of the batches and tried again alone (its one row) with a growing backoff, so a row that still fails
 * costs the other buckets one send, not a narrowing. A missing topic is tried once for all of its buckets, and a
 * row for it found in a batch holds its bucket back without a send: a topic missing for a whole subject type would
 * otherwise cost a narrowing in every bucket.
 */
export class Holds<R extends HeldRow> {
  private readonly byBucket = new Map<number, Hold<R>>();
  private readonly missing = new Map<string, { failures: number; until: number; error: string }>();
  /** Topics Kafka has taken a row for: they exist (unless deleted since, which a narrowing still finds). */
  private readonly acknowledged = new Set<string>();

  /**
   * Holds the row's bucket back. If it was held behind this same row already, this is a failed retry: the next one
   * waits longer (for a missing topic, the topic's).
   */
  hold(row: R, reason: HoldReason, error: string, now: number): { hold: Hold<R>; fresh: boolean } {
    const previous = this.byBucket.get(row.bucket);
    const again = previous !== undefined && previous.row.position === row.position;
    const failures = again ? previous.failures + 1 : 1;
    let until = now + holdBackoffMs(failures);
    if (reason === 'unknown-topic') {
      this.acknowledged.delete(row.topic);
      const topic = this.missing.get(row.topic);
      if (!topic || again) {
        const topicFailures = (topic?.failures ?? 0) + 1;
        this.missing.set(row.topic, { failures: topicFailures, until: now + holdBackoffMs(topicFailures), error });
      }
      until = this.missing.get(row.topic)!.until;
    }
    const hold: Hold<R> = { row, reason, error, since: again ? previous.since : now, failures, until };
    this.byBucket.set(row.bucket, hold);
    return { hold, fresh: !again };
  }

  /**
   * A send failed because Kafka does not know a topic, without saying which. If all of its topics but one took rows
   * before, that one is missing: it is marked so, and the next batch holds back each bucket at its first row for it,
   * as a narrowing would have, without a send per halving (each costs the producer's whole retry cycle here).
   * Returns the topic, or undefined when it cannot tell and the rows have to be narrowed down.
   */
  blameTopic(rows: readonly R[], error: string, now: number): string | undefined {
    const suspects = new Set(rows.map((r) => r.topic).filter((t) => !this.acknowledged.has(t)));
    if (suspects.size !== 1) return undefined;
    const [topic] = suspects;
    if (!this.missing.has(topic)) this.missing.set(topic, { failures: 1, until: now + holdBackoffMs(1), error });
    return topic;
  }

  isHeld(bucket: number): boolean {
    return this.byBucket.has(bucket);
  }

  holdOf(bucket: number): Hold<R> | undefined {
    return this.byBucket.get(bucket);
  }

  /** The held bucket to try again now, if any: for a missing topic, one of its buckets stands for all of them. */
  due(now: number): number | undefined {
    for (const [topic, state] of this.missing) {
      if (state.until > now) continue;
      for (const [bucket, hold] of this.byBucket)
        if (hold.reason === 'unknown-topic' && hold.row.topic === topic) return bucket;
      // No bucket of this instance waits for it any more: forget it, a row for it would find out again.
      this.missing.delete(topic);
    }
    for (const [bucket, hold] of this.byBucket) if (hold.reason !== 'unknown-topic' && hold.until <= now) return bucket;
    return undefined;
  }

  /**
   * Rows read for a batch, cut in each bucket before its first row for a topic known to be missing: those rows hold
   * their buckets back (with the error Kafka gave for the topic) instead of failing the batch again.
   */
  screen(rows: readonly R[]): { send: R[]; held: { row: R; error: string }[] } {
    if (this.missing.size === 0) return { send: [...rows], held: [] };
    const stopped = new Set<number>();
    const send: R[] = [];
    const held: { row: R; error: string }[] = [];
    for (const row of rows) {
      if (stopped.has(row.bucket)) continue;
      const topic = this.missing.get(row.topic);
      if (!topic) send.push(row);
      else {
        stopped.add(row.bucket);
        held.push({ row, error: topic.error });
      }
    }
    return { send, held };
  }

  /**
   * Kafka took these rows: their buckets move on, and a topic that took a row exists now, so every bucket held back
   * for it rejoins the batches, its held row first.
   */
  published(rows: readonly R[]): Hold<R>[] {
    const released: Hold<R>[] = [];
    for (const row of rows) {
      const hold = this.release(row.bucket);
      if (hold) released.push(hold);
    }
    for (const topic of new Set(rows.map((r) => r.topic))) {
      this.acknowledged.add(topic);
      if (!this.missing.delete(topic)) continue;
      for (const [bucket, hold] of this.byBucket)
        if (hold.reason === 'unknown-topic' && hold.row.topic === topic) released.push(this.release(bucket)!);
    }
    return released;
  }

  release(bucket: number): Hold<R> | undefined {
    const hold = this.byBucket.get(bucket);
    this.byBucket.delete(bucket);
    return hold;
  }

  /** Only buckets this instance still owns: an instance taking one over finds the row again by itself. */
  keepOnly(owned: ReadonlySet<number>): Hold<R>[] {
    const dropped: Hold<R>[] = [];
    for (const bucket of [...this.byBucket.keys()]) if (!owned.has(bucket)) dropped.push(this.release(bucket)!);
    return dropped;
  }

  counts(): Record<HoldReason, number> {
    const counts = Object.fromEntries(HOLD_REASONS.map((r) => [r, 0])) as Record<HoldReason, number>;
    for (const hold of this.byBucket.values()) counts[hold.reason]++;
    return counts;
  }
}
