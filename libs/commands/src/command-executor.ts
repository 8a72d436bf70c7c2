import { createHash, randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import {
  DomainError,
  REFUSAL_HTTP_STATUS,
  subjectKey,
  type Loaded,
  type PendingEvent,
  type SubjectRef,
} from '@event-spine/domain';
import {
  newPersonalKey,
  sealPayload,
  type DomainEvent,
  type EventCatalog,
  type EventEnvelope,
} from '@event-spine/events';
import type { DomainModel } from './domain-model';
import {
  appendEventsStatement,
  chainHash,
  computeSubjectHead,
  keyForWriting,
  keysForWritingStatement,
  newKeysStatement,
  previousHashFor,
  type DataSubjectKey,
  type Queryable,
} from '@event-spine/event-log';
import { inSpan, traceHeaders } from '@event-spine/observability';
import { enqueueOutboxStatement, toOutboxMessage } from '@event-spine/outbox';
import {
  combineWrites,
  prepared,
  rowsOf,
  withTransaction,
  type Statement,
  type Transaction,
} from '@event-spine/persistence';
import { assertEmissions, type ActionDeclaration } from './action-registry';
import {
  findStoredResponseStatement,
  storeResponse,
  storeResponseStatement,
  toStoredResponse,
  type StoredResponseRow,
} from './idempotency.store';
import {
  loadSubjectStatesStatement,
  lockSubjectsStatement,
  saveSubjectStatesStatements,
  type SubjectStateRow,
} from './subject-state.store';

/** Who asks, in which conversation, with which retry protection. Taken from the transport (HTTP or gRPC). */
export interface CommandContext {
  tenantId: string;
  spaceId: string;
  actorId: string;
  actorType: string;
  correlationId: string;
  /** Idempotency-Key and the hash of the request it protects. */
  idempotency?: { key: string; requestHash: string };
  /** If-Match: the sequence the primary subject must be at. */
  expectedSequence?: number;
}

export interface StateView {
  get<S>(ref: SubjectRef): Loaded<S>;
}

export interface Reply {
  statusCode: number;
  body: Record<string, unknown>;
}

export interface Outcome extends Reply {
  /** True when this is the stored first response of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

/**
 * A command as data plus functions: which subjects it touches, what it decides, what it answers. `E` is the union of
 * the domain's events (the catalog's type), so a decider cannot emit an event of another shape.
 */
export interface CommandDefinition<
  Input,
  Facts = undefined,
  E extends DomainEvent = DomainEvent,
> extends ActionDeclaration {
  subjects(input: Input): SubjectRef[];
  /** The subject If-Match refers to. */
  primarySubject(input: Input): SubjectRef;
  /** Extra reads the decision needs, made under the subjects' locks. */
  facts?(db: Queryable, input: Input, ctx: CommandContext): Promise<Facts>;
  decide(input: Input, states: StateView, facts: Facts): PendingEvent<E>[];
  reply(input: Input, after: StateView, events: readonly EventEnvelope[], ctx: CommandContext): Reply;
}

export interface ExecutorOptions {
  /** The domain's events: each decided event is stamped with its current schema version and routed to its topic. */
  catalog: EventCatalog;
  topicPrefix: string;
  /**
   * Called after a command's transaction committed new events (e.g. to wake the relay), with the Kafka message keys of
   * the outbox rows it wrote.
   */
  onCommitted?: (messageKeys: readonly string[]) => void;
  maxAttempts?: number;
  clock?: () => Date;
}

/**
 * The schema version a decided event is stored at. A decider that emits an event its catalog does not declare, or on
 * another subject type (which picks the topic: the event would go where no consumer of its type reads), is a
 * configuration error that fails the command, never a stored event.
 */
export function schemaVersionFor(catalog: EventCatalog, eventType: string, subjectType: string): number {
  if (!catalog.has(eventType)) {
    throw new Error(`event type ${JSON.stringify(eventType)} is not declared in the ${catalog.name} event catalog`);
  }
  if (catalog.subjectTypeOf(eventType) !== subjectType) {
    throw new Error(
      `${eventType} belongs to ${catalog.subjectTypeOf(eventType)} subjects in the ${catalog.name} catalog, ` +
        `not to ${JSON.stringify(subjectType)}`,
    );
  }
  return catalog.versionOf(eventType);
}

export const concurrencyConflict = (subject: SubjectRef, expected: number, actual: number) =>
  new DomainError(
    'concurrency',
    'CONCURRENCY_CONFLICT',
    `${subject.subjectType} ${subject.subjectId} is at sequence ${actual}, not ${expected}`,
    { ...subject, expectedSequence: expected, actualSequence: actual },
  );

export const dataSubjectForgotten = (dataSubjectId: string) =>
  new DomainError(
    'conflict',
    'DATA_SUBJECT_FORGOTTEN',
    `Data subject ${dataSubjectId} was forgotten: no personal data of theirs is recorded again`,
    { dataSubjectId },
  );

export const idempotencyKeyReused = (key: string) =>
  new DomainError(
    'unprocessable',
    'IDEMPOTENCY_KEY_REUSED',
    `Idempotency-Key ${key} was used before with a different request`,
    { idempotencyKey: key },
  );

// 40001 is also what spine_expect_rows raises when a guarded write found its subject moved on.
const RETRYABLE_PG_CODES = new Set(['40001', '40P01']);

function isRetryable(error: unknown): boolean {
  const pg = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = pg.driverError?.code ?? pg.code;
  const constraint = pg.driverError?.constraint ?? pg.constraint;
  // Two first requests with one Idempotency-Key raced; the retry finds the winner's stored response.
  return RETRYABLE_PG_CODES.has(code ?? '') || (code === '23505' && constraint === 'idempotency_keys_pkey');
}

/** Hash of an action and its request input (before any server-generated id), for Idempotency-Key checks. */
export function requestHash(actionId: string, input: unknown): string {
  return createHash('sha256').update(actionId).update('\0').update(canonicalJson(input)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Runs a command in one explicit transaction:
 *   lock the subjects → replay a stored idempotent response, or → load state with its sequence → check If-Match →
 *   decide (pure) → evolve → save state only if its sequence still matches → append events → write outbox rows →
 *   store the idempotent response → commit.
 * If any step fails, nothing is written.
 *
 * Round trips: BEGIN, the locks, the reads and the keys of the command's own data subjects go in one (each read
 * takes its snapshot after the locks); the writes of every table go in one prepared statement, with COMMIT. Facts,
 * and the key of a data subject named in the payload, add one each.
 *
 * Subjects are locked with transaction-scoped advisory locks, in a fixed order, before the first write. A
 * transaction therefore gets its id only after it holds its subjects, so for every subject the order of transaction
 * ids is the order of its sequences: the outbox and the event feed read in (tx_id, position) order rely on that.
 */
export class CommandExecutor {
  private readonly maxAttempts: number;
  private readonly clock: () => Date;

  constructor(
    private readonly pool: Pool,
    private readonly domain: DomainModel,
    private readonly options: ExecutorOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.clock = options.clock ?? (() => new Date());
  }

  async execute<Input, Facts>(
    command: CommandDefinition<Input, Facts>,
    input: Input,
    ctx: CommandContext,
  ): Promise<Outcome> {
    const refs = uniqueSorted(command.subjects(input));
    const dataSubjects = this.likelyDataSubjects(command, refs);
    const opening = [lockSubjectsStatement(ctx.tenantId, refs), loadSubjectStatesStatement(ctx.tenantId, refs)];
    const at = {
      stored: ctx.idempotency ? opening.push(findStoredResponseStatement(ctx.tenantId, ctx.idempotency.key)) - 1 : -1,
      keys: dataSubjects.length > 0 ? opening.push(keysForWritingStatement(ctx.tenantId, dataSubjects)) - 1 : -1,
    };
    // READ COMMITTED, the connection's default (dataSourceOptions): no SET TRANSACTION round trip. The reads are not
    // prepared: planned with their values each time, they follow the tables' growth. A cached generic plan made while
    // subject_state was small scanned the whole tenant for every command.
    const openWith = opening;
    return inSpan('command transaction', { attributes: { 'spine.action': command.actionId } }, async (span) => {
      for (let attempt = 1; ; attempt++) {
        span.setAttribute('spine.attempts', attempt);
        try {
          const { messageKeys, ...outcome } = await withTransaction(
            this.pool,
            (client, tx) => this.attempt(client, tx, { dataSubjects, at }, command, input, ctx),
            { openWith },
          );
          if (messageKeys.length > 0) this.options.onCommitted?.(messageKeys);
          span.setAttribute('spine.replayed', outcome.replayed);
          return outcome;
        } catch (error) {
          if (error instanceof DomainError) {
            span.setAttribute('spine.refusal', error.code);
            await this.rememberRefusal(command, ctx, error);
            throw error;
          }
          if (attempt >= this.maxAttempts || !isRetryable(error)) throw error;
          await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
        }
      }
    });
  }

  /**
   * The data subjects whose keys the opening reads: the subjects of the command's types that own events with personal
   * fields, when it may emit one naming its own subject as the data subject (the common case). Another data subject
   * (a payload field) costs a round trip of its own once the decision names it.
   */
  private likelyDataSubjects(command: ActionDeclaration, refs: readonly SubjectRef[]): string[] {
    const { catalog } = this.options;
    const types = new Set<string>();
    for (const eventType of command.emitsEvents) {
      const personal = catalog.has(eventType) ? catalog.personalDataOf(eventType) : undefined;
      if (personal && !personal.dataSubject) types.add(catalog.subjectTypeOf(eventType));
    }
    return [...new Set(refs.filter((r) => types.has(r.subjectType)).map((r) => r.subjectId))].sort();
  }

  private async attempt<Input, Facts>(
    client: PoolClient,
    tx: Transaction,
    opening: { dataSubjects: readonly string[]; at: { stored: number; keys: number } },
    command: CommandDefinition<Input, Facts>,
    input: Input,
    ctx: CommandContext,
  ): Promise<Outcome & { messageKeys: readonly string[] }> {
    const loaded = tx.opened[1];
    if (ctx.idempotency) {
      const response = toStoredResponse(tx.opened[opening.at.stored].rows as StoredResponseRow[]);
      if (response) {
        if (response.requestHash !== ctx.idempotency.requestHash) throw idempotencyKeyReused(ctx.idempotency.key);
        tx.rollback();
        return { statusCode: response.statusCode, body: response.body, replayed: true, messageKeys: [] };
      }
    }

    const db = rowsOf(client);
    const before = this.load(loaded.rows as SubjectStateRow[]);
    if (ctx.expectedSequence !== undefined) {
      const primary = command.primarySubject(input);
      const actual = before.get(primary).sequence;
      if (actual !== ctx.expectedSequence) throw concurrencyConflict(primary, ctx.expectedSequence, actual);
    }

    const facts = command.facts ? await command.facts(db, input, ctx) : (undefined as Facts);
    const pending = command.decide(input, before, facts);
    assertEmissions(
      command,
      pending.map((p) => p.event.eventType),
    );

    const now = this.clock().toISOString();
    const invocationId = randomUUID();
    await this.adoptUnhashedHeads(db, ctx.tenantId, before, pending);
    const read = new Map<string, DataSubjectKey | undefined>(opening.dataSubjects.map((id) => [id, undefined]));
    const keyRows = opening.at.keys >= 0 ? tx.opened[opening.at.keys].rows : [];
    for (const row of keyRows as { data_subject_id: string; key: DataSubjectKey }[]) {
      read.set(row.data_subject_id, row.key);
    }
    const { keys, fresh } = await this.personalDataKeys(db, ctx.tenantId, pending, read);
    const { envelopes, hashes, after } = this.record(pending, before, ctx, invocationId, now, keys);
    const reply = command.reply(input, after, envelopes, ctx);

    const changes = after.changedSince(before).map(([key, next]) => {
      const [subjectType, subjectId] = splitKey(key);
      const ref = { subjectType, subjectId };
      return { ref, previous: before.get(ref).sequence, next: { ...next, headHash: after.headOf(ref)! } };
    });
    const saves = saveSubjectStatesStatements(ctx.tenantId, changes, now);
    // The command's trace context goes with each row: the relay links its publish to it, and it reaches Kafka.
    const trace = envelopes.length > 0 ? traceHeaders() : {};
    const messages = envelopes.map((e) => toOutboxMessage(e, this.options.catalog, this.options.topicPrefix, trace));
    const writes: Statement[] = [...saves];
    if (fresh.size > 0) writes.push(newKeysStatement(ctx.tenantId, fresh));
    if (envelopes.length > 0) {
      writes.push(appendEventsStatement(envelopes, hashes));
      writes.push(enqueueOutboxStatement(messages));
    }
    if (ctx.idempotency) {
      writes.push(
        storeResponseStatement(
          { tenantId: ctx.tenantId, actionId: command.actionId, ...ctx.idempotency, ...reply },
          'fail',
        ),
      );
    }
    if (writes.length > 0) {
      // Guarded writes: each subject is saved only if it is still at the sequence it was loaded at. The saves are the
      // first statements; a miss fails the statement, so COMMIT, sent with it, never runs, and the command is retried.
      // New data subjects' keys likewise: one that appeared since the opening read fails it too.
      const written = saves.map((_, i) => `(SELECT count(*) FROM s${i})`).join(' + ') || '0';
      const checks = [`spine_expect_rows(${written}, ${changes.length}, 'subject_state') AS saved`];
      if (fresh.size > 0) {
        checks.push(`spine_expect_rows((SELECT count(*) FROM s${saves.length}), ${fresh.size}, 'data_subject_keys')`);
      }
      // Prepared: planning this statement cost PostgreSQL more than running it.
      await tx.commitWith([prepared(combineWrites(writes, { checks }))]);
    }
    return { ...reply, replayed: false, messageKeys: [...new Set(messages.map((m) => m.key))] };
  }

  /**
   * The keys of the data subjects whose personal data the decided events hold, and those to create (`fresh`, written
   * with the command's writes). Keys the opening read are used as read; another data subject's is taken with a
   * round trip of its own, in a fixed order (two commands on the same data subjects never wait for each other
   * crosswise). A forgotten data subject refuses the command.
   */
  private async personalDataKeys(
    tx: Queryable,
    tenantId: string,
    pending: readonly PendingEvent[],
    read: ReadonlyMap<string, DataSubjectKey | undefined>,
  ): Promise<{ keys: Map<string, Buffer>; fresh: Map<string, Buffer> }> {
    const { catalog } = this.options;
    const ids = new Set<string>();
    for (const p of pending) {
      if (!catalog.personalDataOf(p.event.eventType)) continue;
      const id = catalog.dataSubjectOf({ ...p.event, subjectId: p.subjectId });
      if (id === undefined) throw new Error(`${p.event.eventType} has personal fields but names no data subject`);
      ids.add(id);
    }
    const keys = new Map<string, Buffer>();
    const fresh = new Map<string, Buffer>();
    for (const id of [...ids].sort()) {
      let key: DataSubjectKey | undefined;
      if (read.has(id)) {
        key = read.get(id);
        if (key === undefined) fresh.set(id, (key = newPersonalKey()));
      } else {
        key = await keyForWriting(tx, tenantId, id);
      }
      if (!key) throw dataSubjectForgotten(id);
      keys.set(id, key);
    }
    return { keys, fresh };
  }

  /**
   * Gives each decided event its identity, sequence, metadata and chain hash (over its subject's previous head, which
   * the subject's lock keeps stable), and folds it into its subject's state. Personal fields are sealed before the
   * hash, so the chain covers exactly the stored bytes and still verifies once a key is destroyed; the state is folded
   * from the plain event.
   */
  private record(
    pending: readonly PendingEvent[],
    before: LoadedStates,
    ctx: CommandContext,
    invocationId: string,
    now: string,
    keys: ReadonlyMap<string, Buffer>,
  ): { envelopes: EventEnvelope[]; hashes: Buffer[]; after: LoadedStates } {
    const { catalog } = this.options;
    const after = before.copy();
    const envelopes: EventEnvelope[] = [];
    const hashes: Buffer[] = [];
    for (const p of pending) {
      const ref = { subjectType: p.subjectType, subjectId: p.subjectId };
      const current = after.get(ref);
      const envelope: EventEnvelope = {
        id: randomUUID(),
        tenantId: ctx.tenantId,
        spaceId: ctx.spaceId,
        eventType: p.event.eventType,
        eventSchemaVersion: schemaVersionFor(this.options.catalog, p.event.eventType, p.subjectType),
        subjectType: p.subjectType,
        subjectId: p.subjectId,
        actorId: ctx.actorId,
        actorType: ctx.actorType,
        actionInvocationId: invocationId,
        payload: p.event.payload,
        sequence: current.sequence + 1,
        occurredAt: p.occurredAt ? new Date(p.occurredAt).toISOString() : now,
        recordedAt: now,
        correlationId: ctx.correlationId,
        causationId: p.causedBy === undefined ? invocationId : envelopes[p.causedBy]?.id,
      };
      const personal = catalog.personalDataOf(envelope.eventType);
      const dataSubject = personal && catalog.dataSubjectOf(envelope);
      const stored = dataSubject ? sealPayload(envelope, personal, dataSubject, keys.get(dataSubject)!) : envelope;
      const hash = chainHash(previousHashFor(envelope.sequence, after.headOf(ref)), stored);
      envelopes.push(stored);
      hashes.push(hash);
      after.set(
        ref,
        { state: this.domain.evolve(p.subjectType, current.state, envelope), sequence: envelope.sequence },
        hash,
      );
    }
    return { envelopes, hashes, after };
  }

  /**
   * A subject last written before hashing has no head in its state: it is computed once from its events (the hashes
   * verification computes for them), and saved with the subject's next state.
   */
  private async adoptUnhashedHeads(
    tx: Queryable,
    tenantId: string,
    states: LoadedStates,
    pending: readonly PendingEvent[],
  ): Promise<void> {
    const refs = new Map(pending.map((p) => [subjectKey(p), { subjectType: p.subjectType, subjectId: p.subjectId }]));
    for (const ref of refs.values()) {
      const { sequence } = states.get(ref);
      if (sequence === 0 || states.headOf(ref)) continue;
      const head = await computeSubjectHead(tx, tenantId, ref.subjectType, ref.subjectId);
      if (head.sequence !== sequence)
        throw new Error(`${subjectKey(ref)} is at sequence ${sequence} but its last event is at ${head.sequence}`);
      states.setHead(ref, head.hash);
    }
  }

  private load(rows: readonly SubjectStateRow[]): LoadedStates {
    const states = new LoadedStates(this.domain);
    for (const row of rows) {
      states.set(
        { subjectType: row.subject_type, subjectId: row.subject_id },
        { state: row.state, sequence: row.sequence },
        row.head_hash,
      );
    }
    return states;
  }

  /** A refusal is the first response too: a retry with the same key gets the same answer, even if things changed. */
  private async rememberRefusal(command: ActionDeclaration, ctx: CommandContext, error: DomainError): Promise<void> {
    if (!ctx.idempotency || error.code === 'IDEMPOTENCY_KEY_REUSED') return;
    const { statusCode, body } = refusalReply(error, ctx.correlationId);
    await storeResponse(
      rowsOf(this.pool),
      { tenantId: ctx.tenantId, actionId: command.actionId, ...ctx.idempotency, statusCode, body },
      'keep-existing',
    );
  }
}

export function refusalReply(error: DomainError, correlationId: string): Reply {
  const statusCode = REFUSAL_HTTP_STATUS[error.kind];
  return {
    statusCode,
    body: {
      statusCode,
      code: error.code,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
      correlationId,
    },
  };
}

function uniqueSorted(refs: readonly SubjectRef[]): SubjectRef[] {
  const byKey = new Map(refs.map((r) => [subjectKey(r), r]));
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

function splitKey(key: string): [string, string] {
  const at = key.indexOf(':');
  return [key.slice(0, at), key.slice(at + 1)];
}

class LoadedStates implements StateView {
  private readonly states = new Map<string, Loaded<unknown>>();
  /** The chain hash of each subject's last event (absent: a new subject, or one written before hashing). */
  private readonly heads = new Map<string, Buffer>();

  constructor(private readonly domain: DomainModel) {}

  get<S>(ref: SubjectRef): Loaded<S> {
    return (this.states.get(subjectKey(ref)) ?? {
      state: this.domain.initialState(ref.subjectType),
      sequence: 0,
    }) as Loaded<S>;
  }

  set(ref: SubjectRef, loaded: Loaded<unknown>, headHash?: Buffer | null): void {
    this.states.set(subjectKey(ref), loaded);
    if (headHash) this.heads.set(subjectKey(ref), headHash);
  }

  headOf(ref: SubjectRef): Buffer | undefined {
    return this.heads.get(subjectKey(ref));
  }

  setHead(ref: SubjectRef, headHash: Buffer): void {
    this.heads.set(subjectKey(ref), headHash);
  }

  copy(): LoadedStates {
    const copy = new LoadedStates(this.domain);
    for (const [k, v] of this.states) copy.states.set(k, v);
    for (const [k, v] of this.heads) copy.heads.set(k, v);
    return copy;
  }

  changedSince(before: LoadedStates): [string, Loaded<unknown>][] {
    return [...this.states].filter(([k, v]) => before.states.get(k)?.sequence !== v.sequence);
  }
}
