import { createHash, randomUUID } from 'node:crypto';
import type { Pool, QueryResult } from 'pg';
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
  chainHash,
  computeSubjectHead,
  keyForWriting,
  keysForWritingStatement,
  previousHashFor,
  type DataSubjectKey,
  type Queryable,
} from '@event-spine/event-log';
import { inSpan, traceHeaders } from '@event-spine/observability';
import { toOutboxMessage } from '@event-spine/outbox';
import { rowsOf, withTransaction, type PipelinedStatement } from '@event-spine/persistence';
import { assertEmissions, type ActionDeclaration } from './action-registry';
import { takeGroup, type Claims } from './command-groups';
import { writesStatement, type CommandWrites } from './command-writes';
import {
  findStoredResponsesStatement,
  storeRefusal,
  toStoredResponse,
  type StoredResponseRow,
} from './idempotency.store';
import { loadSubjectStatesStatement, lockSubjectsStatement, type SubjectStateRow } from './subject-state.store';

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
  /**
   * Group commit. Concurrent commands of one tenant that share no subject, data subject or Idempotency-Key run in one
   * transaction of the same two round trips, up to `maxCommands` at a time, in at most `transactions` transactions
   * at once; each is decided, answered and refused on its own. Absent: every command has a transaction of its own.
   */
  grouping?: {
    maxCommands: number;
    transactions: number;
    /** Called as each group's transaction ends: how many commands it held, and whether it committed. */
    observe?: (commands: number, committed: boolean) => void;
  };
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
 *
 * With `grouping`, commands that arrive while earlier ones run are queued and run together: one transaction locks
 * all their subjects, reads for all of them and writes each one's statement with one COMMIT, so PostgreSQL and the
 * service pay a transaction's round trips, commit and WAL flush once per group. Each command is still decided on its
 * own state and gets its own answer; a refused one writes nothing and the others commit. If the group's transaction
 * fails, each of its commands runs again in a transaction of its own, with the usual retries. A command that needs
 * more than the two round trips (facts, or the key of a data subject named in its payload) runs alone.
 */
export class CommandExecutor {
  private readonly maxAttempts: number;
  private readonly clock: () => Date;
  private readonly queue: Job[] = [];
  /** Claims of the groups running: a queued command sharing one waits (see `takeGroup`). */
  private readonly busy = new Set<string>();
  private running = 0;

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
    return inSpan('command transaction', { attributes: { 'spine.action': command.actionId } }, async (span) => {
      const job: Job = {
        command,
        input,
        ctx,
        refs,
        dataSubjects,
        claims: claimsOf(ctx, refs, dataSubjects),
        // The command's trace context goes with each row: the relay links its publish to it, and it reaches Kafka.
        trace: traceHeaders(),
        span,
      };
      try {
        const outcome = this.options.grouping && !command.facts ? await this.enqueue(job) : await this.runAlone(job);
        span.setAttribute('spine.replayed', outcome.replayed);
        return outcome;
      } catch (error) {
        if (error instanceof DomainError) span.setAttribute('spine.refusal', error.code);
        throw error;
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

  /** A transaction of the command's own, retried on a serialization failure, a deadlock or an idempotency race. */
  private async runAlone(job: Job): Promise<Outcome> {
    for (let attempt = 1; ; attempt++) {
      job.span.setAttribute('spine.attempts', attempt);
      try {
        const [decided] = (await this.transact([job], false)) as Decision[];
        if (decided.messageKeys.length > 0) this.options.onCommitted?.(decided.messageKeys);
        return decided.outcome;
      } catch (error) {
        if (error instanceof DomainError) {
          await this.rememberRefusal(job.command, job.ctx, error);
          throw error;
        }
        if (attempt >= this.maxAttempts || !isRetryable(error)) throw error;
        await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
    }
  }

  private enqueue(job: Job): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.queue.push({ ...job, settle: { resolve, reject } });
      this.dispatch();
    });
  }

  /** Starts groups while transactions are free and queued commands can go. */
  private dispatch(): void {
    const { maxCommands, transactions } = this.options.grouping!;
    while (this.running < transactions && this.queue.length > 0) {
      const group = takeGroup(this.queue, maxCommands, this.busy);
      if (group.length === 0) return;
      const names = group.flatMap((j) => j.claims.names);
      for (const n of names) this.busy.add(n);
      this.running++;
      void this.runGroup(group).finally(() => {
        this.running--;
        for (const n of names) this.busy.delete(n);
        this.dispatch();
      });
    }
  }

  /**
   * Runs a group and settles each of its commands. Its claims stay held until every command is settled, the ones run
   * again alone too, so a later command on one of their subjects cannot overtake them.
   */
  private async runGroup(group: Job[]): Promise<void> {
    try {
      let results: Result[];
      try {
        results = await this.transact(group, true);
        this.options.grouping?.observe?.(group.length, true);
      } catch {
        this.options.grouping?.observe?.(group.length, false);
        // Nothing of the group was written; each command gets its own transaction and its retries.
        await Promise.all(group.map((job) => settleWith(job, this.runAlone(job))));
        return;
      }
      const keys = new Set(results.flatMap((r) => ('outcome' in r ? r.messageKeys : [])));
      if (keys.size > 0) this.options.onCommitted?.([...keys]);
      await Promise.all(
        results.map((r, i) => {
          const job = group[i];
          job.span.setAttribute('spine.group', group.length);
          if ('outcome' in r) {
            job.settle!.resolve(r.outcome);
            return Promise.resolve();
          }
          if (r.refused instanceof DomainError) {
            const refusal = this.rememberRefusal(job.command, job.ctx, r.refused).then(() => {
              throw r.refused;
            });
            return settleWith(job, refusal);
          }
          return settleWith(job, this.runAlone(job));
        }),
      );
    } catch (error) {
      // Not expected (settling never throws); a command must not wait forever if it does.
      for (const job of group) job.settle!.reject(error);
    }
  }

  /**
   * One transaction for the jobs (one tenant's, sharing no claim): the locks and every read in the opening round
   * trip, each job decided in turn, every write with COMMIT. In a group a refused job, or one that needs a round trip
   * of its own, answers a `Refused` result and the others go on; alone, the error ends the transaction.
   */
  private transact(jobs: readonly Job[], grouped: boolean): Promise<Result[]> {
    const opening = openingOf(jobs);
    // READ COMMITTED, the connection's default (dataSourceOptions): no SET TRANSACTION round trip. The reads are not
    // prepared: planned with their values each time, they follow the tables' growth. A cached generic plan made while
    // subject_state was small scanned the whole tenant for every command.
    return withTransaction(
      this.pool,
      async (client, tx) => {
        const reads = opening.read(tx.opened);
        const db = rowsOf(client);
        const results: Result[] = [];
        for (const job of jobs) {
          try {
            results.push(await this.decide(db, reads, job, grouped));
          } catch (error) {
            if (!grouped || !(error instanceof DomainError || error instanceof NeedsOwnTransaction)) throw error;
            results.push({ refused: error });
          }
        }
        const writes = writesStatement(
          jobs[0].ctx.tenantId,
          results.flatMap((r) => ('writes' in r && r.writes ? [r.writes] : [])),
        );
        if (writes) await tx.commitWith([writes]);
        else tx.rollback();
        return results;
      },
      { openWith: opening.statements },
    );
  }

  /** One command's decision on what the opening read: its answer, and the statement of its writes (none if it replays). */
  private async decide(db: Queryable, reads: OpeningReads, job: Job, grouped: boolean): Promise<Decision> {
    const { command, input, ctx } = job;
    if (ctx.idempotency) {
      const stored = reads.stored.get(ctx.idempotency.key);
      if (stored) {
        const response = toStoredResponse(stored);
        if (response.requestHash !== ctx.idempotency.requestHash) throw idempotencyKeyReused(ctx.idempotency.key);
        return { outcome: { statusCode: response.statusCode, body: response.body, replayed: true }, messageKeys: [] };
      }
    }

    const before = this.load(job.refs.flatMap((r) => reads.states.get(subjectKey(r)) ?? []));
    if (ctx.expectedSequence !== undefined) {
      const primary = command.primarySubject(input);
      const actual = before.get(primary).sequence;
      if (actual !== ctx.expectedSequence) throw concurrencyConflict(primary, ctx.expectedSequence, actual);
    }

    const facts = command.facts ? await command.facts(db, input, ctx) : undefined;
    const pending = command.decide(input, before, facts);
    assertEmissions(
      command,
      pending.map((p) => p.event.eventType),
    );

    const now = this.clock().toISOString();
    const invocationId = randomUUID();
    await this.adoptUnhashedHeads(db, ctx.tenantId, before, pending);
    const read = new Map<string, DataSubjectKey | undefined>(job.dataSubjects.map((id) => [id, reads.keys.get(id)]));
    const { keys, fresh } = await this.personalDataKeys(db, ctx.tenantId, pending, read, grouped);
    const { envelopes, hashes, after } = this.record(pending, before, ctx, invocationId, now, keys);
    const reply = command.reply(input, after, envelopes, ctx);

    const changes = after.changedSince(before).map(([key, next]) => {
      const [subjectType, subjectId] = splitKey(key);
      const ref = { subjectType, subjectId };
      return { ref, previous: before.get(ref).sequence, next: { ...next, headHash: after.headOf(ref)! } };
    });
    const trace = envelopes.length > 0 ? job.trace : {};
    const messages = envelopes.map((e) => toOutboxMessage(e, this.options.catalog, this.options.topicPrefix, trace));
    const response = ctx.idempotency && { actionId: command.actionId, ...ctx.idempotency, ...reply };
    return {
      outcome: { ...reply, replayed: false },
      messageKeys: [...new Set(messages.map((m) => m.key))],
      writes: { changes, fresh, events: envelopes, hashes, messages, response, now },
    };
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
    grouped: boolean,
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
        // A round trip of its own (it may create the key): in a group it would hold every command's locks the longer.
        if (grouped) throw new NeedsOwnTransaction();
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
    await storeRefusal(rowsOf(this.pool), {
      tenantId: ctx.tenantId,
      actionId: command.actionId,
      ...ctx.idempotency,
      statusCode,
      body,
    });
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

/** A command on its way through the executor; `settle` is set once it is queued for a group. */
interface Job {
  command: CommandDefinition<unknown, unknown>;
  input: unknown;
  ctx: CommandContext;
  refs: SubjectRef[];
  dataSubjects: string[];
  claims: Claims;
  trace: Record<string, string>;
  span: { setAttribute(key: string, value: string | number | boolean): unknown };
  settle?: { resolve: (outcome: Outcome) => void; reject: (error: unknown) => void };
}

interface Decision {
  outcome: Outcome;
  messageKeys: readonly string[];
  /** What the command writes, sent with COMMIT; absent when it replays a stored response. */
  writes?: CommandWrites;
}

/** A job of a group that did not get a decision there: refused, or to run in a transaction of its own. */
type Result = Decision | { refused: DomainError | NeedsOwnTransaction };

class NeedsOwnTransaction extends Error {}

interface OpeningReads {
  states: Map<string, SubjectStateRow>;
  stored: Map<string, StoredResponseRow>;
  keys: Map<string, DataSubjectKey>;
}

/** The opening round trip of a transaction for the jobs: their subjects locked, then one read per table for all. */
function openingOf(jobs: readonly Job[]): {
  statements: PipelinedStatement[];
  read(opened: readonly QueryResult[]): OpeningReads;
} {
  const { tenantId } = jobs[0].ctx;
  const refs = uniqueSorted(jobs.flatMap((j) => j.refs));
  const keys = jobs.flatMap((j) => (j.ctx.idempotency ? [j.ctx.idempotency.key] : []));
  const dataSubjects = [...new Set(jobs.flatMap((j) => j.dataSubjects))].sort();
  const statements = [lockSubjectsStatement(tenantId, refs), loadSubjectStatesStatement(tenantId, refs)];
  const storedAt = keys.length > 0 ? statements.push(findStoredResponsesStatement(tenantId, keys)) - 1 : -1;
  const keysAt = dataSubjects.length > 0 ? statements.push(keysForWritingStatement(tenantId, dataSubjects)) - 1 : -1;
  const rowsAt = <R>(opened: readonly QueryResult[], at: number) => (at >= 0 ? (opened[at].rows as R[]) : []);
  return {
    statements,
    read: (opened) => ({
      states: new Map(
        rowsAt<SubjectStateRow>(opened, 1).map((r) => [
          subjectKey({ subjectType: r.subject_type, subjectId: r.subject_id }),
          r,
        ]),
      ),
      stored: new Map(rowsAt<StoredResponseRow>(opened, storedAt).map((r) => [r.key, r])),
      keys: new Map(
        rowsAt<{ data_subject_id: string; key: DataSubjectKey }>(opened, keysAt).map((r) => [r.data_subject_id, r.key]),
      ),
    }),
  };
}

/** Tenant-qualified, so commands of two tenants never wait for each other on a name. */
function claimsOf(ctx: CommandContext, refs: readonly SubjectRef[], dataSubjects: readonly string[]): Claims {
  const t = `${ctx.tenantId}\0`;
  const names = [...refs.map((r) => `s:${t}${subjectKey(r)}`), ...dataSubjects.map((d) => `d:${t}${d}`)];
  if (ctx.idempotency) names.push(`k:${t}${ctx.idempotency.key}`);
  return { tenantId: ctx.tenantId, names };
}

function settleWith(job: Job, outcome: Promise<Outcome>): Promise<void> {
  const { resolve, reject } = job.settle!;
  return outcome.then(resolve, reject);
}
