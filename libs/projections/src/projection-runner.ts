import type { Pool, PoolClient, QueryResult } from 'pg';
import {
  DATA_SUBJECT_FORGOTTEN,
  UnknownEventError,
  openPayload,
  sealedDataSubjects,
  type EventCatalog,
  type EventEnvelope,
  type OpenedPayload,
} from '@event-spine/events';
import {
  combineWrites,
  failedStatementIndex,
  pipeline,
  prepared,
  withTransaction,
  type Statement,
  type Transaction,
} from '@event-spine/persistence';
import { checkSequence } from './sequence-check';
import {
  advancePartitionStatement,
  claimPartitionStatement,
  readPartitionStatement,
  recordPositionCheckStatement,
  type PartitionRef,
} from './partition-offsets.store';
import {
  readSubjectPositionsStatement,
  saveSubjectPositionsStatement,
  type SubjectPositionRow,
} from './subject-positions.store';
import { checkPosition, type PartitionBounds, type PositionCheck } from './partition-position';
import type { ProjectedEvent, Projection } from './projection';

export interface RawMessage {
  offset: string;
  key: string | null;
  value: string | null;
}

export interface BatchOutcome {
  applied: number;
  duplicates: number;
  parked: number;
  gaps: number;
  /** Offsets below the stored position (a redelivery), or subjects outside a replay's scope. */
  skipped: number;
  /** recordedAt of each applied event, for commit-to-projection latency. */
  appliedRecordedAt: string[];
  /** The tenant of each applied event, in the same order as `appliedRecordedAt`. */
  appliedTenantIds: string[];
  /**
   * Set when the batch was not (fully) applied because a replay is about to swap this projection in: the consumer
   * must come back to this offset shortly (seek), without blocking.
   */
  resumeAt?: string;
  /** Set when the stored position was beyond the partition's end: the batch was applied from the new beginning. */
  reset?: Extract<PositionCheck, { kind: 'reset' }>;
  /** Set when the batch starts beyond the stored position because retention deleted what lay between. */
  sourceGap?: Extract<PositionCheck, { kind: 'source-gap' }>;
}

interface SubjectRow {
  last: number;
  parkedReason: string | null;
  dirty: boolean;
}

/** A handler that throws this many times in a row for one event parks its subject. */
const HANDLER_ATTEMPTS = 3;

/**
 * Applies one partition's batch of Kafka messages to the projections, exactly once in effect: the read-model
 * changes, each subject's last applied sequence and the partition's next offset commit in one transaction.
 *
 *  - An offset below the stored one was applied before (redelivery after a crash or rebalance): skipped.
 *  - A sequence at or below the subject's last applied one is a duplicate (the relay re-sent it): counted, skipped.
 *  - A sequence beyond last + 1 is a gap: never applied past. The subject is parked, and its later events wait in
 *    parked_events behind it; other subjects of the partition keep flowing.
 *  - A poison event (unreadable value, unknown type or version, a handler that keeps failing) parks its subject too.
 */
/**
 * Fetches a subject's missing events (sequence > afterSequence, in order) from the canonical log, e.g. the command
 * service's history API. Returns what it could get; throws or returns [] when the source is unavailable.
 */
export type GapRepair = (ref: SubjectRef, afterSequence: number, upToSequence: number) => Promise<EventEnvelope[]>;

/**
 * Opens the sealed personal fields of some events of one tenant (see `personalDataOpener`): per event, in the order
 * given, its payload with the values (null where the data subject was forgotten), or why a sealed value does not open
 * (its subject is then parked). Throws when the opener cannot answer: the batch is then retried, never applied with
 * guessed values.
 */
export type PersonalDataOpener = (
  tenantId: string,
  events: readonly Pick<EventEnvelope, 'id' | 'payload'>[],
) => Promise<OpenedPayload[]>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RunnerOptions {
  /** The domain's events: upcasting, and the subject type of a topic whose message cannot be read. */
  catalog: EventCatalog;
  /** Fills sequence gaps from the canonical log before parking. */
  repair?: GapRepair;
  /** Opens sealed personal fields; absent, they are applied as null (as if forgotten). */
  openPersonalData?: PersonalDataOpener;
  /** Only subjects this accepts are applied (a scoped replay); others are passed over and counted as skipped. */
  inScope?: (ref: SubjectRef) => boolean;
  /**
   * The partition's bounds as the broker reports them now. Asked only when a batch's high watermark lies below the
   * stored position, to tell an offset reset from a batch fetched before a rebalance moved the position on.
   */
  partitionBounds?: (topic: string, partition: number) => Promise<PartitionBounds>;
}

/**
 * Every apply transaction holds this lock shared, keyed by the schema it writes; a replay's swap takes it exclusively
 * to stop the live projection for the instant it compares positions and swaps rows (see libs/replay).
 */
export function applyLockSql(schemaExpression: string): string {
  return `hashtextextended('spine-projector-apply:' || ${schemaExpression}, 0)`;
}

export class ProjectionRunner {
  private readonly repair?: GapRepair;
  private readonly openPersonalData?: PersonalDataOpener;
  private readonly catalog: EventCatalog;
  private readonly inScope: (ref: SubjectRef) => boolean;
  private readonly partitionBounds?: (topic: string, partition: number) => Promise<PartitionBounds>;
  /** Per partition, the stored position a fetch was last sent back to (see processBatch). */
  private readonly soughtBack = new Map<string, bigint>();

  constructor(
    private readonly pool: Pool,
    private readonly projections: readonly Projection[],
    private readonly consumer: string,
    options: RunnerOptions,
  ) {
    this.catalog = options.catalog;
    this.repair = options.repair;
    this.openPersonalData = options.openPersonalData;
    this.inScope = options.inScope ?? (() => true);
    this.partitionBounds = options.partitionBounds;
  }

  private inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, work);
  }

  /** Waits for the apply lock (see applyLockSql): for work that is not a consumer's, which may block. */
  private async holdApplyLock(client: PoolClient): Promise<void> {
    await client.query(`SELECT pg_advisory_xact_lock_shared(${applyLockSql('current_schema()')})`);
  }

  /** The stored next offset of a partition, if the projector has applied anything from it. */
  async storedOffset(topic: string, partition: number): Promise<string | undefined> {
    const { text, values } = readPartitionStatement({ consumer: this.consumer, topic, partition }, false);
    const { rows } = await this.pool.query<{ next_offset: string }>(text, values);
    return rows[0]?.next_offset;
  }

  /**
   * Compares a partition's stored position with the broker's bounds when the partition is assigned, and moves it
   * where consumption must resume (see checkPosition): an offset reset or a gap in the source is recorded with the
   * position, so it is reported once, not at every rebalance. A partition never consumed has nothing to compare.
   * The bounds are asked for after the position is locked: batches of the new assignment may already be applying,
   * and an end read before them would make a position they moved on look like one beyond the end.
   */
  async checkAssignedPosition(
    topic: string,
    partition: number,
    bounds: () => Promise<PartitionBounds>,
    recreated = false,
  ): Promise<PositionCheck | undefined> {
    return this.inTransaction(async (client) => {
      await this.holdApplyLock(client);
      const { text, values } = readPartitionStatement({ consumer: this.consumer, topic, partition }, true);
      const { rows } = await client.query<{ next_offset: string }>(text, values);
      if (rows.length === 0) return undefined;
      const check = checkPosition(BigInt(rows[0].next_offset), await bounds(), recreated);
      await this.recordPositionCheck(client, topic, partition, check);
      return check;
    });
  }

  private async recordPositionCheck(client: PoolClient, topic: string, partition: number, check: PositionCheck) {
    if (check.kind === 'in-range') return;
    const detail = Object.fromEntries(
      Object.entries({ ...check, at: new Date().toISOString() }).map(([k, v]) => [k, String(v)]),
    );
    await client.query(
      recordPositionCheckStatement({ consumer: this.consumer, topic, partition }, check.kind, check.resumeAt, detail),
    );
  }

  /**
   * `highWatermark` is the partition's end as the fetch saw it: a stored position beyond it means Kafka's offsets
   * started over, and the batch is applied from the partition's new beginning instead of being taken for a redelivery.
   */
  async process(
    topic: string,
    partition: number,
    delivered: readonly RawMessage[],
    highWatermark?: string,
  ): Promise<BatchOutcome> {
    if (delivered.length === 0) return emptyOutcome();
    const deliveries = delivered.map(read);
    return fastThenCareful((careful) => this.processBatch(topic, partition, deliveries, careful, highWatermark));
  }

  private processBatch(
    topic: string,
    partition: number,
    delivered: readonly Delivery[],
    careful: boolean,
    highWatermark?: string,
  ): Promise<BatchOutcome> {
    const at: PartitionRef = { consumer: this.consumer, topic, partition };
    // The locks of every subject the batch names travel with the gate, taken only if the gate's apply lock was had
    // (see lockPlan): a superset of what the batch applies once redeliveries and what lies beyond a fence are left out.
    const locks = this.lockPlan(delivered, `pg_try_advisory_xact_lock_shared(${applyLockSql('current_schema()')})`);
    return withTransaction(
      this.pool,
      async (client, tx) => {
        let messages = delivered;
        const outcome = emptyOutcome();
        const gate = (tx.opened[0].rows as { ok: boolean; fence: string | null; next_offset: string | null }[])[0];
        if (!gate.ok) return { ...outcome, resumeAt: messages[0].offset };
        const fence = gate.fence === null ? undefined : BigInt(gate.fence);
        const beyond = fence === undefined ? undefined : messages.find((m) => BigInt(m.offset) >= fence);
        if (beyond) {
          outcome.resumeAt = beyond.offset;
          messages = messages.filter((m) => BigInt(m.offset) < (fence ?? 0n));
        }
        const settled = await this.settlePosition(
          client,
          topic,
          partition,
          BigInt(gate.next_offset!),
          messages,
          highWatermark,
        );
        if ('sendBack' in settled) return { ...outcome, resumeAt: settled.sendBack.toString() };
        const { stored } = settled;
        Object.assign(outcome, settled.anomaly);
        const fresh = messages.filter((m) => BigInt(m.offset) >= stored);
        outcome.skipped += messages.length - fresh.length;
        const subjects = subjectRows(locks, tx.opened.slice(1));
        const opened = await this.openSealed(
          fresh,
          fresh.filter((d) => locks.sealed.has(d)),
        );
        const queue: ProjectedEvent[] | undefined = careful ? undefined : [];
        for (const message of opened) await this.handle(client, topic, partition, message, subjects, outcome, queue);
        const projected = await this.applyQueued(client, queue);
        const next = opened.length > 0 ? BigInt(opened[opened.length - 1].offset) + 1n : stored;
        // The projections' statements, the subjects and the partition's new position travel with COMMIT.
        await this.writeBatch(client, projected, subjects, {
          alongside: advancePartitionStatement(at, next, outcome),
          tx,
        });
        return outcome;
      },
      // BEGIN, the gate, the partition's position and the subjects' locks in one round trip. Never wait on the apply
      // lock: a consumer that blocks misses its Kafka heartbeats. A replay holding it, or a fence at this partition,
      // sends the batch back to be fetched again a moment later; the position and the subjects are locked only when
      // the apply lock was had.
      { openWith: [prepared(gateStatement(at)), ...locks.statements.map(prepared)], waitForFlush: false },
    );
  }

  /**
   * Where this batch starts applying, given the stored position and what the fetch saw. Offsets that start over (a
   * stored position beyond the high watermark) and offsets that vanished (a fetch starting past the stored position,
   * retention having deleted what lay between) are recorded with the position and returned to be reported; the
   * broker confirms each, so a batch fetched before a rebalance or a seek is not taken for one. A fetch that starts
   * past a position the broker still holds is sent back to it, once per position: if a fetch from there still starts
   * later, those offsets do not exist to be read.
   */
  private async settlePosition(
    client: PoolClient,
    topic: string,
    partition: number,
    stored: bigint,
    messages: readonly Delivery[],
    highWatermark: string | undefined,
  ): Promise<{ stored: bigint; anomaly?: Pick<BatchOutcome, 'reset' | 'sourceGap'> } | { sendBack: bigint }> {
    if (highWatermark !== undefined && stored > BigInt(highWatermark)) {
      const bounds = this.partitionBounds
        ? await this.partitionBounds(topic, partition)
        : { end: BigInt(highWatermark) };
      const check = checkPosition(stored, bounds);
      if (check.kind === 'reset') {
        await this.recordPositionCheck(client, topic, partition, check);
        return { stored: check.resumeAt, anomaly: { reset: check } };
      }
    }
    const first = messages.length > 0 ? BigInt(messages[0].offset) : undefined;
    const key = `${topic}\u0000${partition}`;
    // A fetch from the position itself answers an earlier send-back: should the position fall back to the same offset
    // again (a database crash takes back batches committed without waiting for the flush), it is sent back again.
    if (first !== undefined && first <= stored) this.soughtBack.delete(key);
    if (first === undefined || first <= stored || !this.partitionBounds) return { stored };
    const check = checkPosition(stored, await this.partitionBounds(topic, partition));
    if (check.kind === 'source-gap') {
      await this.recordPositionCheck(client, topic, partition, check);
      return { stored, anomaly: { sourceGap: check } };
    }
    if (this.soughtBack.get(key) === stored) return { stored };
    this.soughtBack.set(key, stored);
    return { sendBack: stored };
  }

  /**
   * Applies events read from the canonical event log (not from Kafka) in one transaction, through the same checks:
   * a replay's `event-log` source. `source` names them in parked_events.
   */
  async processEvents(events: readonly EventEnvelope[], source: string): Promise<BatchOutcome> {
    if (events.length === 0) return emptyOutcome();
    const deliveries: Delivery[] = events.map((event) => ({
      offset: '0',
      key: `${event.tenantId}:${event.subjectId}`,
      value: JSON.stringify(event),
      envelope: event,
    }));
    return fastThenCareful((careful) =>
      this.inTransaction(async (client) => {
        await this.holdApplyLock(client);
        const outcome = emptyOutcome();
        const { opened, subjects } = await this.lockAndOpen(client, deliveries);
        const queue: ProjectedEvent[] | undefined = careful ? undefined : [];
        for (const delivery of opened) await this.handle(client, source, -1, delivery, subjects, outcome, queue);
        await this.writeBatch(client, await this.applyQueued(client, queue), subjects);
        return outcome;
      }),
    );
  }

  /**
   * Unparks a subject and applies its parked events in sequence order, through the same checks as live consumption.
   * With `skipFirst`, the first of them is passed over (its sequence counts as done): an operator's decision. When the
   * subject is parked at a gap, the skip passes over the missing sequences instead and the parked events are applied.
   * Events that still cannot be applied park the subject again. Returns what happened.
   */
  async releaseParked(
    ref: SubjectRef,
    skipFirst: boolean,
  ): Promise<BatchOutcome & { released: number; skippedEvent?: string }> {
    return this.inTransaction(async (client) => {
      await this.holdApplyLock(client);
      const outcome = emptyOutcome();
      const subjects = new Map<string, SubjectRow>();
      const subject = await this.subject(client, subjects, ref);
      const { rows } = await client.query<{
        id: string;
        sequence: number | null;
        event_id: string | null;
        topic: string;
        partition: number;
        kafka_offset: string;
        value: string;
      }>(
        `DELETE FROM parked_events WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3
         RETURNING id, sequence, event_id, topic, partition, kafka_offset, value`,
        [ref.tenantId, ref.subjectType, ref.subjectId],
      );
      // In sequence order (a late-arriving missing event goes first); events without a readable sequence are the
      // head-of-line blockers and come first, so a skip passes over them.
      rows.sort((a, b) => (a.sequence ?? -1) - (b.sequence ?? -1) || Number(a.id) - Number(b.id));
      subject.parkedReason = null;
      subject.dirty = true;
      let skippedEvent: string | undefined;
      let pending = rows;
      const first = rows[0] as (typeof rows)[number] | undefined;
      if (skipFirst && typeof first?.sequence === 'number' && first.sequence > subject.last + 1) {
        // Parked at a gap: what is skipped is the missing sequences, never the real event that revealed the gap.
        const missing =
          first.sequence - 1 === subject.last + 1
            ? `${first.sequence - 1}`
            : `${subject.last + 1}..${first.sequence - 1}`;
        skippedEvent = `missing sequence ${missing}`;
        subject.last = first.sequence - 1;
      } else if (skipFirst && first) {
        skippedEvent = first.event_id ?? `offset ${first.kafka_offset}`;
        if (first.sequence !== null && first.sequence > subject.last) subject.last = first.sequence;
        pending = rows.slice(1);
      }
      for (const row of pending) {
        await this.handle(
          client,
          row.topic,
          row.partition,
          read({ offset: row.kafka_offset, key: `${ref.tenantId}:${ref.subjectId}`, value: row.value }),
          subjects,
          outcome,
          undefined,
        );
      }
      await this.writeBatch(client, [], subjects);
      return { ...outcome, released: rows.length, skippedEvent };
    });
  }

  private async handle(
    client: PoolClient,
    topic: string,
    partition: number,
    message: Delivery,
    subjects: Map<string, SubjectRow>,
    outcome: BatchOutcome,
    queue: ProjectedEvent[] | undefined,
  ): Promise<void> {
    const park = async (ref: SubjectRef, reason: string, event?: { sequence?: number; id?: string }) => {
      const subject = await this.subject(client, subjects, ref);
      if (subject.parkedReason === null) {
        subject.parkedReason = withoutNul(reason);
        subject.dirty = true;
      }
      // Whatever a poison envelope holds, parking it must not fail: only a sane sequence and id are kept.
      const sequence = event?.sequence;
      await client.query(
        `INSERT INTO parked_events (tenant_id, subject_type, subject_id, sequence, event_id, reason, topic, partition,
            kafka_offset, value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          ref.tenantId,
          ref.subjectType,
          ref.subjectId,
          Number.isInteger(sequence) && sequence! > 0 && sequence! < 2 ** 31 ? sequence : null,
          typeof event?.id === 'string' ? withoutNul(event.id) : null,
          withoutNul(reason),
          topic,
          partition,
          message.offset,
          withoutNul(message.value ?? ''),
        ],
      );
      outcome.parked++;
    };

    const envelope = message.envelope;
    if (!envelope) {
      // Unreadable: park under the message key (tenant:subject), which every producer of ours sets.
      const keyRef = refFromKey(message.key, this.catalog.subjectTypeOfTopic(topic));
      if (!this.inScope(keyRef)) return void outcome.skipped++;
      await park(keyRef, 'poison: the value is not a JSON envelope');
      return;
    }
    const ref = { tenantId: envelope.tenantId, subjectType: envelope.subjectType, subjectId: envelope.subjectId };
    if (!isSubjectRef(ref)) {
      const keyRef = refFromKey(message.key, this.catalog.subjectTypeOfTopic(topic));
      if (!this.inScope(keyRef)) return void outcome.skipped++;
      await park(keyRef, 'poison: the envelope names no subject');
      return;
    }
    if (!this.inScope(ref)) return void outcome.skipped++;
    const subject = await this.subject(client, subjects, ref);
    const verdict = checkSequence({ last: subject.last, parked: subject.parkedReason !== null }, envelope.sequence);
    switch (verdict.kind) {
      case 'behind-parked':
        return park(ref, 'waiting behind a parked event', envelope);
      case 'bad-sequence':
        return park(ref, 'poison: the envelope has no valid sequence', envelope);
      case 'duplicate':
        return void outcome.duplicates++;
      case 'gap': {
        outcome.gaps++;
        // First try to fill the gap from the canonical event log; park only if that fails.
        const missing = await this.fetchMissing(ref, subject.last, verdict.to);
        for (const m of missing) {
          if (!(await this.applyOne(client, ref, subject, m, park, outcome, queue))) return;
        }
        if (envelope.sequence > subject.last + 1) {
          return park(ref, `gap: expected sequence ${subject.last + 1}, got ${envelope.sequence}`, envelope);
        }
        break;
      }
      case 'next':
        break;
    }
    if (message.unopenable) return park(ref, `poison: ${message.unopenable}`, envelope);
    await this.applyOne(client, ref, subject, envelope, park, outcome, queue);
  }

  private async fetchMissing(ref: SubjectRef, after: number, upTo: number): Promise<EventEnvelope[]> {
    if (!this.repair) return [];
    try {
      const events = await this.repair(ref, after, upTo);
      // Only a contiguous run starting right after `after` can be applied.
      const run: EventEnvelope[] = [];
      for (const e of events.sort((a, b) => a.sequence - b.sequence)) {
        if (e.sequence !== after + run.length + 1 || e.sequence > upTo) break;
        run.push(e);
      }
      return run;
    } catch {
      return [];
    }
  }

  /**
   * Applies one in-sequence event to every projection that handles it; false if it parked the subject. On the fast
   * path (`queue` given) the event is only queued: the batch's events are applied together by `applyQueued`, a few
   * statements per projection for the whole batch; a failure there aborts the batch, which is then run carefully,
   * event by event behind savepoints, to find and park the one that fails.
   */
  private async applyOne(
    client: PoolClient,
    ref: SubjectRef,
    subject: SubjectRow,
    envelope: EventEnvelope,
    park: (ref: SubjectRef, reason: string, event?: { sequence?: number; id?: string }) => Promise<void>,
    outcome: BatchOutcome,
    queue: ProjectedEvent[] | undefined,
  ): Promise<boolean> {
    let event: ProjectedEvent;
    try {
      event = this.catalog.upcast(envelope);
    } catch (error) {
      const why = error instanceof UnknownEventError ? error.message : String(error);
      await park(ref, `poison: ${why}`, envelope);
      return false;
    }
    if (queue) queue.push(event);
    for (let attempt = 1; !queue; attempt++) {
      await client.query('SAVEPOINT apply_event');
      try {
        for (const projection of this.projections) {
          if (projection.handles.includes(event.eventType)) await projection.apply(client, event);
        }
        await client.query('RELEASE SAVEPOINT apply_event');
        break;
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT apply_event');
        if (attempt >= HANDLER_ATTEMPTS) {
          await park(ref, `poison: a handler failed ${HANDLER_ATTEMPTS} times: ${String(error)}`, envelope);
          return false;
        }
      }
    }
    subject.last = envelope.sequence;
    subject.dirty = true;
    outcome.applied++;
    outcome.appliedRecordedAt.push(envelope.recordedAt);
    outcome.appliedTenantIds.push(envelope.tenantId);
    return true;
  }

  /**
   * The fast path's apply: every projection gets the batch's events it handles, in order, at once. Projections only
   * touch their own tables, so projection by projection gives the same rows as event by event. Answers the statements
   * of the projections declared as data, for the caller to send with its last writes (see `writeBatch`).
   */
  private async applyQueued(client: PoolClient, queue: readonly ProjectedEvent[] | undefined): Promise<Statement[]> {
    const statements: Statement[] = [];
    if (!queue || queue.length === 0) return statements;
    try {
      for (const projection of this.projections) {
        const mine = queue.filter((e) => projection.handles.includes(e.eventType));
        if (mine.length === 0) continue;
        if (projection.batchStatements) statements.push(...projection.batchStatements(mine));
        else if (projection.applyBatch) await projection.applyBatch(client, mine);
        else for (const event of mine) await projection.apply(client, event);
      }
    } catch (error) {
      throw new HandlerFailed(error);
    }
    return statements;
  }

  /**
   * The projections' statements, then the subjects that moved on or were parked with `alongside` (the partition's new
   * position), in one round trip, with COMMIT when `tx` is given. A projection statement that fails is a handler's
   * failure: the batch is run again carefully.
   */
  private async writeBatch(
    client: PoolClient,
    projected: readonly Statement[],
    subjects: Map<string, SubjectRow>,
    options: { alongside?: Statement; tx?: Transaction } = {},
  ): Promise<void> {
    const own = subjectWrites(subjects, options.alongside);
    // Named, so each connection parses them once. Its pools plan them with their values every time (CUSTOM_PLANS): a
    // generic plan made while a read model was small would keep joining it in full.
    const statements = [...projected.map(prepared), ...(own ? [prepared(own)] : [])];
    try {
      if (options.tx) await options.tx.commitWith(statements);
      else await pipeline(client, statements);
    } catch (error) {
      const failed = failedStatementIndex(error);
      if (failed !== undefined && failed < projected.length) throw new HandlerFailed(error);
      throw error;
    }
  }

  /**
   * The deliveries with their sealed personal fields opened, and the positions of the subjects they name, locked: the
   * data subjects' locks and the positions travel in one round trip. A data subject's lock keeps the opening
   * consistent with their `DataSubjectForgotten`: a batch that opened their fields holds it shared until it commits,
   * and a batch applying the forget event takes it exclusively, so the erasure a projection applies is never followed
   * by values opened before the key was destroyed. Locks are taken in one order (by key) so batches never wait
   * crosswise.
   */
  private async lockAndOpen(
    client: PoolClient,
    deliveries: readonly Delivery[],
  ): Promise<{ opened: readonly Delivery[]; subjects: Map<string, SubjectRow> }> {
    const locks = this.lockPlan(deliveries);
    // One round trip: each statement's answer in order, the positions last.
    const subjects = subjectRows(locks, await pipeline(client, locks.statements.map(prepared)));
    return { opened: await this.openSealed(deliveries, [...locks.sealed]), subjects };
  }

  /**
   * The statements locking what the deliveries name: their data subjects (exclusively for a forget event, shared for
   * a sealed field) and their subjects' positions, answered last. With `onlyIf`, a condition re-checked by each
   * statement: when it fails they lock nothing (sent in the same round trip as a gate, which they cannot wait for).
   */
  private lockPlan(deliveries: readonly Delivery[], onlyIf = 'true'): LockPlan {
    const locks = new Map<string, boolean>();
    const sealed = new Set<Delivery>();
    const refs = new Map<string, SubjectRef>();
    for (const d of deliveries) {
      const e = d.envelope;
      // Unreadable ones, and envelopes naming no subject, are handled (parked) one by one.
      const ref = { tenantId: e?.tenantId, subjectType: e?.subjectType, subjectId: e?.subjectId };
      if (isSubjectRef(ref) && this.inScope(ref)) refs.set(subjectCacheKey(ref), ref);
      if (!e || typeof e.tenantId !== 'string') continue;
      if (e.eventType === DATA_SUBJECT_FORGOTTEN && typeof e.subjectId === 'string') {
        locks.set(JSON.stringify([e.tenantId, e.subjectId]), true);
      }
      const ids = sealedDataSubjects(e.payload);
      if (ids.length > 0) sealed.add(d);
      for (const id of ids) {
        const key = JSON.stringify([e.tenantId, id]);
        locks.set(key, locks.get(key) ?? false);
      }
    }
    const statements: Statement[] = [];
    if (locks.size > 0) {
      const keys = [...locks.keys()].sort();
      statements.push({
        text: `SELECT CASE WHEN x THEN pg_advisory_xact_lock(hashtextextended('spine-data-subject:' || k, 0))::text
                           ELSE pg_advisory_xact_lock_shared(hashtextextended('spine-data-subject:' || k, 0))::text END
                 FROM unnest($1::text[], $2::bool[]) WITH ORDINALITY AS l(k, x, n) WHERE ${onlyIf} ORDER BY n`,
        values: [keys, keys.map((k) => locks.get(k))],
      });
    }
    const subjectKeys = [...refs.keys()].sort();
    if (subjectKeys.length > 0) {
      statements.push(
        readSubjectPositionsStatement(
          subjectKeys.map((k) => refs.get(k)!),
          true,
          onlyIf,
        ),
      );
    }
    return { statements, subjectKeys, sealed };
  }

  /** Opens the sealed deliveries (their data subjects' locks held), per tenant, 500 at a time. */
  private async openSealed(deliveries: readonly Delivery[], sealed: readonly Delivery[]): Promise<readonly Delivery[]> {
    if (sealed.length === 0) return deliveries;
    const payloads = new Map<Delivery, OpenedPayload>();
    const byTenant = new Map<string, Delivery[]>();
    for (const d of sealed) {
      // The event id binds each sealed value: without one, nothing opens it.
      if (typeof d.envelope!.id !== 'string' || !UUID.test(d.envelope!.id)) {
        payloads.set(d, { error: 'a sealed personal field in an event without a UUID id' });
        continue;
      }
      const list = byTenant.get(d.envelope!.tenantId);
      if (list) list.push(d);
      else byTenant.set(d.envelope!.tenantId, [d]);
    }
    for (const [tenantId, list] of byTenant) {
      for (let i = 0; i < list.length; i += 500) {
        const chunk = list.slice(i, i + 500);
        const opened = this.openPersonalData
          ? await this.openPersonalData(
              tenantId,
              chunk.map((d) => ({ id: d.envelope!.id, payload: d.envelope!.payload })),
            )
          : chunk.map((d) => ({ payload: openPayload(d.envelope!, new Map()).payload }));
        chunk.forEach((d, j) => payloads.set(d, opened[j]));
      }
    }
    return deliveries.map((d) => {
      const opened = payloads.get(d);
      if (!opened) return d;
      return 'error' in opened
        ? { ...d, unopenable: opened.error }
        : { ...d, envelope: { ...d.envelope!, payload: opened.payload } };
    });
  }

  private async subject(client: PoolClient, cache: Map<string, SubjectRow>, ref: SubjectRef): Promise<SubjectRow> {
    const key = subjectCacheKey(ref);
    let row = cache.get(key);
    if (!row) {
      const { rows } = await client.query<{ last_sequence: number; parked_reason: string | null }>(
        `SELECT last_sequence, parked_reason FROM projector_subjects
          WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3 FOR UPDATE`,
        [ref.tenantId, ref.subjectType, ref.subjectId],
      );
      row = {
        last: rows[0]?.last_sequence ?? 0,
        parkedReason: rows[0]?.parked_reason ?? null,
        dirty: false,
      };
      cache.set(key, row);
    }
    return row;
  }
}

/**
 * One statement writing the subjects that moved on or were parked, with `alongside` (the partition's new position);
 * none when there is nothing to write.
 */
function subjectWrites(subjects: Map<string, SubjectRow>, alongside?: Statement): Statement | undefined {
  const dirty = [...subjects].flatMap(([k, s]) => {
    if (!s.dirty) return [];
    const [tenantId, subjectType, subjectId] = JSON.parse(k) as [string, string, string];
    return [{ tenantId, subjectType, subjectId, lastSequence: s.last, parkedReason: s.parkedReason }];
  });
  const writes = [
    ...(dirty.length > 0 ? [saveSubjectPositionsStatement(dirty)] : []),
    ...(alongside ? [alongside] : []),
  ];
  if (writes.length === 0) return undefined;
  return writes.length === 1 ? writes[0] : combineWrites(writes);
}

/** A projection handler threw during a fast (savepoint-free) batch: the batch is rolled back and run carefully. */
class HandlerFailed extends Error {
  constructor(readonly reason: unknown) {
    super(`a projection handler failed: ${String(reason)}`);
  }
}

export interface SubjectRef {
  tenantId: string;
  subjectType: string;
  subjectId: string;
}

/**
 * A delivered message, its value parsed once: `envelope` is absent when the value is not a JSON object;
 * `unopenable` says why its sealed personal fields could not be opened.
 */
type Delivery = RawMessage & { envelope?: EventEnvelope; unopenable?: string };

function read(message: RawMessage): Delivery {
  try {
    const value: unknown = JSON.parse(message.value ?? '');
    return typeof value === 'object' && value !== null ? { ...message, envelope: value as EventEnvelope } : message;
  } catch {
    return message;
  }
}

/**
 * What a batch locks (see lockPlan): the statements, the keys of the subjects whose positions come last, and the
 * deliveries with sealed fields (their data subjects among the locks), to open once the locks are held.
 */
interface LockPlan {
  statements: Statement[];
  subjectKeys: string[];
  sealed: ReadonlySet<Delivery>;
}

/** The subjects' positions as the lock plan's last statement answered them; a subject without a row starts at 0. */
function subjectRows(plan: LockPlan, answers: readonly QueryResult[]): Map<string, SubjectRow> {
  const subjects = new Map<string, SubjectRow>();
  for (const key of plan.subjectKeys) subjects.set(key, { last: 0, parkedReason: null, dirty: false });
  if (plan.subjectKeys.length === 0) return subjects;
  for (const r of answers[answers.length - 1].rows as SubjectPositionRow[]) {
    subjects.set(subjectCacheKey({ tenantId: r.tenant_id, subjectType: r.subject_type, subjectId: r.subject_id }), {
      last: r.last_sequence,
      parkedReason: r.parked_reason,
      dirty: false,
    });
  }
  return subjects;
}

/** How a batch's subject positions are keyed in memory. */
function subjectCacheKey(ref: SubjectRef): string {
  return JSON.stringify([ref.tenantId, ref.subjectType, ref.subjectId]);
}

/**
 * Whether the batch may apply (the apply lock, shared, taken without waiting), the lowest fence at the partition,
 * and, only when the lock was had, the partition's position claimed.
 */
function gateStatement(at: PartitionRef): Statement {
  const claim = claimPartitionStatement(at, 'gate', 'gate.ok');
  return {
    text: `WITH gate AS (
             SELECT pg_try_advisory_xact_lock_shared(${applyLockSql('current_schema()')}) AS ok,
                    (SELECT min(fence_offset) FROM projector_fences
                      WHERE topic = $2 AND partition = $3 AND expires_at > now()) AS fence
           ), claimed AS (${claim.text})
           SELECT gate.ok, gate.fence, (SELECT next_offset FROM claimed) AS next_offset FROM gate`,
    values: claim.values,
  };
}

function emptyOutcome(): BatchOutcome {
  return { applied: 0, duplicates: 0, parked: 0, gaps: 0, skipped: 0, appliedRecordedAt: [], appliedTenantIds: [] };
}

/** Runs a batch savepoint-free; if a handler failed, runs it again event by event behind savepoints to park it. */
async function fastThenCareful<T>(run: (careful: boolean) => Promise<T>): Promise<T> {
  try {
    return await run(false);
  } catch (error) {
    if (error instanceof HandlerFailed) return run(true);
    throw error;
  }
}

/** Names a subject: three non-empty strings PostgreSQL text can hold. */
function isSubjectRef(ref: Partial<Record<keyof SubjectRef, unknown>>): ref is SubjectRef {
  return [ref.tenantId, ref.subjectType, ref.subjectId].every(
    (v) => typeof v === 'string' && v.length > 0 && !v.includes('\u0000'),
  );
}

/** PostgreSQL text cannot hold NUL: a poison value or key may, so it is stored escaped. */
function withoutNul(text: string): string {
  return text.replaceAll('\u0000', '\\u0000');
}

function refFromKey(rawKey: string | null, topicSubjectType: string | undefined): SubjectRef {
  const key = rawKey === null ? null : withoutNul(rawKey);
  const at = key?.indexOf(':') ?? -1;
  const subjectType = topicSubjectType ?? 'unknown';
  if (!key || at < 1) return { tenantId: '(unknown)', subjectType, subjectId: key ?? '(no key)' };
  return { tenantId: key.slice(0, at), subjectType, subjectId: key.slice(at + 1) };
}
