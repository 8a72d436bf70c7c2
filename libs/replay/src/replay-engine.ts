import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { Pool, type PoolClient } from 'pg';
import { DomainError } from '@event-spine/domain';
import type { ConsumerSettings, MessageConsumer } from '@event-spine/kafka';
import type { EventCatalog } from '@event-spine/events';
import { annotateActiveSpan, inSpan } from '@event-spine/observability';
import { CUSTOM_PLANS, surviveDatabaseRestarts, withTransaction } from '@event-spine/persistence';
import {
  applyLockSql,
  ProjectionRunner,
  recordAdminAction,
  type GapRepair,
  type PersonalDataOpener,
  type Projection,
  type Queryable,
} from '@event-spine/projections';
import {
  requestKey,
  type ReplayDiff,
  type ReplayFrom,
  type ReplayRequest,
  type ReplayState,
  type ReplayView,
} from './replay.request';
import { createShadow, diffShadow, dropShadow, liveIsEmpty, subjectsDiffering, swapShadowIn } from './shadow';
import { feedFromEventLog, type EventLogProgress, type EventLogReader } from './sources/event-log.source';
import { endPositions, KafkaShadowFeed, positionKey, startPositions, type Positions } from './sources/kafka.source';

interface LoggerLike {
  log(message: object): void;
  warn(message: object): void;
  error(message: object): void;
}

export interface ReplayEngineOptions {
  databaseUrl: string;
  /** Schema of the live read models and bookkeeping. */
  liveSchema: string;
  /** The live projector's consumer name in projector_offsets (its consumer group). */
  liveConsumer: string;
  topics: readonly string[];
  /** The domain's events, which the shadow's runner upcasts with as live consumption does. */
  catalog: EventCatalog;
  projections: readonly Projection[];
  /** Admin requests: partition bounds, offsets by time. */
  kafka: Kafka;
  /** A consumer of the configured client for a shadow's own group. */
  newConsumer: (settings: ConsumerSettings) => MessageConsumer;
  repair?: GapRepair;
  /** Opens sealed personal fields read from Kafka, as the live projector does. */
  openPersonalData?: PersonalDataOpener;
  /** The canonical log; absent: the `event-log` source is refused. */
  eventLog?: EventLogReader;
  logger: LoggerLike;
  /** Longest time the final step may hold the live projection still while the shadow takes its last events. */
  swapWaitMs?: number;
  /** An event-log replay switches to Kafka from this long before it started reading the log (clock skew, lag). */
  handoverMarginMs?: number;
  /** A replay that makes no progress for this long fails (Kafka or the database gone). */
  stallTimeoutMs?: number;
  /** A fence that its replay did not lift stops holding the live projection after this long. */
  fenceTtlMs?: number;
  /** The live projection is fenced once the shadow is at most this many Kafka messages behind it. */
  fenceWithin?: number;
  /**
   * Partitions a shadow applies at once, each in its own transaction (a subject's events share one partition); as
   * many as the live projector applies. Default 1.
   */
  partitionsConcurrently?: number;
  /** Told how each replay ended (for the `spine_replays_total` metric). */
  onFinished?: (outcome: { projection: string; mode: string; state: ReplayState }) => void;
}

export interface Requester {
  actorId: string;
  tenantId: string;
}

interface ReplayRow {
  id: string;
  projection: string;
  mode: ReplayRequest['mode'];
  source: ReplayRequest['source'];
  request: ReplayRequest;
  request_key: string;
  tenant_id: string;
  actor_id: string;
  state: ReplayState;
  phase: string;
  processed: string;
  total: string;
  applied: string;
  diff: ReplayDiff | null;
  outcome: Record<string, unknown> | null;
  error: string | null;
  requested_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

class Cancelled extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FINAL_ATTEMPTS = 20;

/**
 * Replay and rebuild of one projection, scoped to a tenant (SPEC section 9).
 *
 * A replay builds the projection into a shadow schema with the same runner as live consumption (same checks, same
 * upcasting, batched transactions), from Kafka or from the canonical event log, while the live projection keeps
 * serving and applying. The shadow never reads Kafka past the live projection's positions. At the end the live
 * projection is held still for an instant (an exclusive lock its apply transactions take shared); the shadow takes
 * its last events up to exactly the live positions, every subject's sequence is compared, and then:
 *  - preview: the shadow is compared row by row with the live read model; the diff is kept; nothing live changes;
 *  - rebuild: the live rows in scope are replaced by the shadow's in that same transaction, so readers see the old
 *    model or the new one, never a half-built one; the live consumer goes on from positions the shadow shares.
 * The shadow is dropped whatever happens. A replay whose projector died is found by the reaper (its session lock is
 * gone), marked failed and cleaned up; the live read model was never touched by it.
 */
export class ReplayEngine {
  private readonly pool: Pool;
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private reaper?: NodeJS.Timeout;

  constructor(private readonly options: ReplayEngineOptions) {
    this.pool = new Pool({
      connectionString: options.databaseUrl,
      options: `-c search_path=${options.liveSchema}`,
      max: 10,
      application_name: 'projector-replay',
    });
    surviveDatabaseRestarts(this.pool, (m) => options.logger.warn(m));
  }

  private get concurrency(): number {
    return Math.max(1, this.options.partitionsConcurrently ?? 1);
  }

  async startReaper(intervalMs = 10000): Promise<void> {
    await this.reap();
    this.reaper = setInterval(() => {
      this.reap().catch((error: unknown) =>
        this.options.logger.warn({ message: 'replay reaper', error: String(error) }),
      );
    }, intervalMs);
    this.reaper.unref();
  }

  /** Cancels what runs here and waits for each to clean up its shadow. */
  async close(): Promise<void> {
    if (this.reaper) clearInterval(this.reaper);
    for (const { abort } of this.running.values()) abort.abort();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
    await this.pool.end();
  }

  async request(request: ReplayRequest, who: Requester): Promise<{ replayId: string }> {
    const refuse = async (error: DomainError): Promise<never> => {
      await this.audit(who, 'replay.request', { projection: request.projection, scope: request.scope }, error.code, {
        request,
        message: error.message,
      });
      throw error;
    };
    const projection = this.options.projections.find((p) => p.name === request.projection);
    if (!projection) {
      return refuse(
        new DomainError('not-found', 'PROJECTION_NOT_FOUND', `no projection named ${request.projection}`, {
          projections: this.options.projections.map((p) => p.name),
        }),
      );
    }
    if (request.scope.subjectId !== undefined && !projection.scope.subjectColumn) {
      return refuse(
        new DomainError(
          'unprocessable',
          'SCOPE_NOT_SUPPORTED',
          `${projection.name} aggregates across subjects: it can be replayed for a tenant, not for one subject`,
        ),
      );
    }
    if (request.source === 'event-log' && !this.options.eventLog) {
      return refuse(
        new DomainError(
          'unprocessable',
          'SOURCE_UNAVAILABLE',
          'the event-log source needs COMMAND_SERVICE_URL (the command service that holds the log)',
        ),
      );
    }
    if ('offsets' in request.from) {
      if (request.source !== 'kafka') {
        return refuse(
          new DomainError('unprocessable', 'OFFSETS_NEED_KAFKA', 'from.offsets applies to the kafka source only'),
        );
      }
      const ends = await endPositions(this.options.kafka, this.options.topics);
      for (const o of request.from.offsets) {
        const end = ends.get(positionKey(o.topic, o.partition));
        if (end === undefined || BigInt(o.offset) > end) {
          return refuse(
            new DomainError(
              'unprocessable',
              'UNKNOWN_POSITION',
              end === undefined
                ? `${o.topic} has no partition ${o.partition} (topics: ${this.options.topics.join(', ')})`
                : `${o.topic}/${o.partition} ends at offset ${end}; ${o.offset} is beyond it`,
            ),
          );
        }
      }
    }
    if (request.mode === 'rebuild' && (await this.startsAfterTheBeginning(request))) {
      // A model built from part of the history lacks every subject the range does not touch: swapping it in would
      // delete their rows. A range is for previews; a rebuild starts at the beginning of the history it uses.
      return refuse(
        new DomainError(
          'unprocessable',
          'PARTIAL_RANGE',
          'a rebuild needs the whole history: use from {earliest: true} (a timestamp or offsets that start after the beginning of the retained history are for previews)',
        ),
      );
    }
    if (
      request.mode === 'rebuild' &&
      !(await liveIsEmpty(this.pool, this.options.liveSchema, projection, request.scope))
    ) {
      if (!request.confirm) {
        return refuse(
          new DomainError(
            'conflict',
            'CONFIRMATION_REQUIRED',
            `${projection.name} has live rows in this scope: run a preview of the same request first and pass its replayId as confirm`,
          ),
        );
      }
      const { rows } = await this.pool.query<Pick<ReplayRow, 'mode' | 'state' | 'request_key'>>(
        `SELECT mode, state, request_key FROM replays WHERE id = $1 AND tenant_id = $2`,
        [request.confirm, who.tenantId],
      );
      const preview = rows[0];
      if (
        !preview ||
        preview.mode !== 'preview' ||
        preview.state !== 'completed' ||
        preview.request_key !== requestKey(request)
      ) {
        return refuse(
          new DomainError(
            'conflict',
            'PREVIEW_NOT_MATCHING',
            `confirm must name a completed preview of the same projection, source, range and scope`,
            { confirm: request.confirm, found: preview ? { mode: preview.mode, state: preview.state } : null },
          ),
        );
      }
    }
    const id = randomUUID();
    const shadow = `spine_replay_${id.replace(/-/g, '')}`;
    try {
      await this.pool.query(
        `INSERT INTO replays (id, projection, mode, source, request, request_key, tenant_id, actor_id, state, phase, shadow_schema)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'running', 'starting', $9)`,
        [
          id,
          projection.name,
          request.mode,
          request.source,
          JSON.stringify(request),
          requestKey(request),
          who.tenantId,
          who.actorId,
          shadow,
        ],
      );
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        return refuse(
          new DomainError(
            'conflict',
            'REPLAY_IN_PROGRESS',
            `a replay of ${projection.name} is already running for this tenant`,
          ),
        );
      }
      throw error;
    }
    await this.audit(
      who,
      'replay.request',
      { projection: projection.name, replayId: id, scope: request.scope },
      'accepted',
      {
        request,
      },
    );
    const abort = new AbortController();
    const span = {
      attributes: {
        'spine.replay.id': id,
        'spine.replay.projection': projection.name,
        'spine.replay.mode': request.mode,
        'spine.replay.source': request.source,
      },
    };
    const done = inSpan(`replay ${projection.name}`, span, () =>
      this.run(id, shadow, projection, request, who, abort.signal),
    ).finally(() => this.running.delete(id));
    this.running.set(id, { abort, done });
    return { replayId: id };
  }

  async view(id: string, tenantId: string): Promise<ReplayView> {
    const { rows } = await this.pool.query<ReplayRow>(`SELECT * FROM replays WHERE id = $1 AND tenant_id = $2`, [
      id,
      tenantId,
    ]);
    const row = rows[0];
    if (!row) throw new DomainError('not-found', 'REPLAY_NOT_FOUND', `no replay ${id}`);
    const processed = Number(row.processed);
    const total = Math.max(Number(row.total), processed);
    const seconds = Math.max(
      0.001,
      ((row.finished_at ?? row.updated_at).getTime() - row.requested_at.getTime()) / 1000,
    );
    const eventsPerSecond = Math.round(processed / seconds);
    return {
      replayId: row.id,
      projection: row.projection,
      mode: row.mode,
      source: row.source,
      from: row.request.from,
      scope: row.request.scope,
      state: row.state,
      phase: row.phase,
      requestedBy: row.actor_id,
      requestedAt: row.requested_at.toISOString(),
      finishedAt: row.finished_at?.toISOString() ?? null,
      progress: {
        processed,
        total,
        applied: Number(row.applied),
        eventsPerSecond,
        etaSeconds:
          row.state !== 'running' ? 0 : eventsPerSecond > 0 ? Math.ceil((total - processed) / eventsPerSecond) : null,
      },
      ...(row.diff ? { diff: row.diff } : {}),
      ...(row.outcome ? { outcome: row.outcome } : {}),
      ...(row.error ? { error: row.error } : {}),
    };
  }

  async cancel(id: string, who: Requester): Promise<ReplayView> {
    const { rows } = await this.pool.query<{ state: ReplayState }>(
      `UPDATE replays SET cancel_requested = true WHERE id = $1 AND tenant_id = $2 RETURNING state`,
      [id, who.tenantId],
    );
    if (!rows[0]) throw new DomainError('not-found', 'REPLAY_NOT_FOUND', `no replay ${id}`);
    if (rows[0].state !== 'running') {
      await this.audit(who, 'replay.cancel', { replayId: id }, 'refused: not running', { state: rows[0].state });
      throw new DomainError('conflict', 'REPLAY_NOT_RUNNING', `replay ${id} is already ${rows[0].state}`);
    }
    this.running.get(id)?.abort.abort();
    await this.audit(who, 'replay.cancel', { replayId: id }, 'cancel requested', undefined);
    return this.view(id, who.tenantId);
  }

  private async run(
    id: string,
    shadow: string,
    projection: Projection,
    request: ReplayRequest,
    who: Requester,
    signal: AbortSignal,
  ): Promise<void> {
    const { logger, liveSchema: live } = this.options;
    const owner = await this.pool.connect();
    const status: { phase: string; base: number; kafkaTotal: number; logProgress: EventLogProgress } = {
      phase: 'starting',
      base: 0,
      kafkaTotal: 0,
      logProgress: { read: 0, applied: 0 },
    };
    let feed: KafkaShadowFeed | undefined;
    let shadowPool: Pool | undefined;
    let finalState: { state: ReplayState; error?: string } = { state: 'completed' };
    const persist = async () => {
      const processed = status.logProgress.read + (feed?.scanned ?? 0);
      const { rows } = await this.pool.query<{ cancel_requested: boolean }>(
        `UPDATE replays SET processed = $2, total = $3, applied = $4, phase = $5, updated_at = now()
          WHERE id = $1 AND state = 'running' RETURNING cancel_requested`,
        [
          id,
          processed,
          status.base + status.kafkaTotal,
          status.logProgress.applied + (feed?.applied ?? 0),
          status.phase,
        ],
      );
      if (rows[0]?.cancel_requested) this.running.get(id)?.abort.abort();
    };
    const tick = setInterval(() => void persist().catch(() => undefined), 500);
    try {
      // The session lock says "someone is running this replay"; the reaper cleans up after replays whose lock is free.
      await owner.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [id]);
      await createShadow(this.pool, live, shadow, projection);
      shadowPool = new Pool({
        connectionString: this.options.databaseUrl,
        options: `-c search_path=${shadow} ${CUSTOM_PLANS}`,
        // One per partition applying, and room for the feed's own reads of the shadow's positions.
        max: this.concurrency + 2,
        application_name: 'projector-replay-shadow',
      });
      surviveDatabaseRestarts(shadowPool, (m) => logger.warn(m));
      const scope = request.scope;
      const runner = new ProjectionRunner(shadowPool, [projection], 'replay', {
        catalog: this.options.catalog,
        repair: this.options.repair,
        openPersonalData: this.options.openPersonalData,
        inScope: (ref) =>
          ref.tenantId === scope.tenantId && (scope.subjectId === undefined || ref.subjectId === scope.subjectId),
      });
      let from: ReplayFrom = request.from;
      if (request.source === 'event-log' && this.options.eventLog) {
        status.phase = 'reading the event log';
        status.base = await this.eventEstimate(scope);
        const handover = Date.now() - (this.options.handoverMarginMs ?? 5 * 60_000);
        await feedFromEventLog(this.options.eventLog, runner, {
          tenantId: scope.tenantId,
          subjectId: scope.subjectId,
          since: 'timestamp' in request.from ? Date.parse(request.from.timestamp) : undefined,
          pageSize: request.batchSize,
          progress: status.logProgress,
          cancelled: () => signal.aborted,
        });
        if (signal.aborted) throw new Cancelled();
        // Hand-over: what committed after the log was read is on Kafka after this time; what is on both is a
        // duplicate by sequence, and anything missed would be a gap, which the runner never applies past.
        from = { timestamp: new Date(handover).toISOString() };
      }
      status.phase = request.source === 'event-log' ? 'handing over to kafka' : 'reading kafka';
      const startAt = await startPositions(this.options.kafka, this.options.topics, from);
      feed = new KafkaShadowFeed(
        this.options.newConsumer({
          groupId: `${this.options.liveConsumer}-replay-${id}`,
          topics: this.options.topics,
          sessionTimeoutMs: 10_000,
          maxWaitMs: 100,
          partitionsConcurrently: this.concurrency,
        }),
        runner,
        shadowPool,
        request.batchSize,
      );
      const cap = await livePositions(this.pool, this.options.liveConsumer);
      feed.setCap(cap);
      status.kafkaTotal = span(startAt, cap);
      await feed.start(startAt);
      const result = await this.finish(id, shadow, projection, request, feed, startAt, status, signal, persist, who);
      logger.log({
        message: 'replay finished',
        replayId: id,
        projection: projection.name,
        mode: request.mode,
        ...result,
      });
    } catch (error) {
      finalState = signal.aborted
        ? { state: 'cancelled', error: 'cancelled by an admin or by the projector shutting down' }
        : { state: 'failed', error: error instanceof Error ? error.message : String(error) };
      logger.warn({ message: 'replay ended early', replayId: id, ...finalState });
    } finally {
      this.options.onFinished?.({ projection: projection.name, mode: request.mode, state: finalState.state });
      annotateActiveSpan({ 'spine.replay.state': finalState.state, 'spine.replay.error': finalState.error });
      clearInterval(tick);
      await persist().catch(() => undefined);
      await feed?.stop();
      await this.deleteGroup(`${this.options.liveConsumer}-replay-${id}`);
      await shadowPool?.end().catch(() => undefined);
      await dropShadow(this.pool, shadow).catch((error: unknown) =>
        logger.error({ message: 'could not drop a replay shadow', shadow, error: String(error) }),
      );
      // The state change and its audit row commit together (a completed replay was audited when it completed).
      await withTransaction(this.pool, async (settle) => {
        const { rows } = await settle.query<{ state: ReplayState; was: ReplayState }>(
          `UPDATE replays r SET state = CASE WHEN r.state = 'running' THEN $2 ELSE r.state END,
                  error = CASE WHEN r.state = 'running' THEN $3 ELSE r.error END,
                  phase = CASE WHEN r.state = 'running' THEN $2 ELSE r.phase END,
                  finished_at = coalesce(r.finished_at, now()), updated_at = now()
             FROM replays old WHERE old.id = r.id AND r.id = $1 RETURNING r.state, old.state AS was`,
          [id, finalState.state, finalState.error ?? null],
        );
        if (rows[0]?.was === 'running')
          await recordAdminAction(settle, {
            actorId: who.actorId,
            tenantId: who.tenantId,
            action: 'replay.outcome',
            target: { projection: projection.name, replayId: id, scope: request.scope },
            outcome: rows[0].state,
            details: finalState.error ? { error: finalState.error } : undefined,
          });
      }).catch((error: unknown) =>
        logger.error({ message: 'could not record the end of a replay', replayId: id, error: String(error) }),
      );
      await owner.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [id]).catch(() => undefined);
      owner.release();
    }
  }

  /** Whether the requested range leaves out part of the history the source still holds. */
  private async startsAfterTheBeginning(request: ReplayRequest): Promise<boolean> {
    if ('earliest' in request.from) return false;
    if (request.source === 'event-log') return true;
    const [start, beginning] = await Promise.all([
      startPositions(this.options.kafka, this.options.topics, request.from),
      startPositions(this.options.kafka, this.options.topics, { earliest: true }),
    ]);
    return [...start].some(([key, offset]) => offset > (beginning.get(key) ?? 0n));
  }

  /**
   * Brings the shadow and the live projection to exactly the same place, then previews or swaps:
   *  1. the shadow catches up with the live positions while both run;
   *  2. fences: the live projection is asked to stop at its current positions (it does not block: batches beyond
   *     the fence are fetched again later, reads go on); the shadow takes its last events up to the fence;
   *  3. one transaction, holding the live projection's apply lock: positions and every subject's sequence are
   *     checked equal, then the diff is computed (preview) or the rows in scope are swapped (rebuild), and the fence
   *     is lifted. If anything differs (an event-log shadow can be ahead of live), the fence is lifted and it tries
   *     again a moment later.
   */
  private async finish(
    id: string,
    shadow: string,
    projection: Projection,
    request: ReplayRequest,
    feed: KafkaShadowFeed,
    startAt: Positions,
    status: { phase: string; kafkaTotal: number },
    signal: AbortSignal,
    saveProgress: () => Promise<void>,
    who: Requester,
  ): Promise<Record<string, unknown>> {
    const live = this.options.liveSchema;
    let differing: Awaited<ReturnType<typeof subjectsDiffering>> | undefined;
    for (let attempt = 1; attempt <= FINAL_ATTEMPTS; attempt++) {
      status.phase = 'catching up with the live projection';
      await this.catchUp(feed, startAt, status, signal);
      status.phase = 'fenced: taking the last events';
      const fence = await this.raiseFence(id, startAt);
      try {
        feed.setCap(fence);
        const reached = await this.waitFor(
          () => caughtUp(feed, startAt, fence),
          this.options.swapWaitMs ?? 20000,
          signal,
        );
        if (!reached) continue;
        status.phase = request.mode === 'rebuild' ? 'swapping' : 'comparing';
        await saveProgress();
        const settled = await withTransaction(
          this.pool,
          async (client, tx) => {
            await client.query(`SELECT pg_advisory_xact_lock(${applyLockSql('$1::text')})`, [live]);
            const now = await livePositions(client, this.options.liveConsumer);
            const samePlace = [...fence].every(([key, offset]) => (now.get(key) ?? 0n) === offset);
            differing = await subjectsDiffering(client, live, shadow, request.scope);
            const settle = samePlace && (differing.count === 0 || (request.mode === 'preview' && attempt >= 3));
            if (settle && !signal.aborted) {
              const result =
                request.mode === 'preview'
                  ? await this.completePreview(client, id, shadow, projection, request, differing.count)
                  : await this.completeRebuild(client, id, shadow, projection, request, fence);
              await client.query(`DELETE FROM projector_fences WHERE replay_id = $1`, [id]);
              // Recorded with the state change: whoever sees the replay completed finds its outcome audited.
              await recordAdminAction(client, {
                actorId: who.actorId,
                tenantId: who.tenantId,
                action: 'replay.outcome',
                target: { projection: projection.name, replayId: id, scope: request.scope },
                outcome: 'completed',
                details: undefined,
              });
              return result;
            }
            tx.rollback();
            return undefined;
          },
          { lockTimeout: '10s' },
        );
        if (settled) return settled;
      } finally {
        await this.pool.query(`DELETE FROM projector_fences WHERE replay_id = $1`, [id]);
      }
      if (signal.aborted) throw new Cancelled();
      await sleep(200 * attempt);
    }
    throw new Error(
      differing && differing.count > 0
        ? `not swapped: ${differing.count} subject(s) differ in last applied sequence between the shadow and the live projection (e.g. ${JSON.stringify(differing.example)}); retry or skip parked subjects, then replay again`
        : `not swapped: the shadow could not reach the live positions (${FINAL_ATTEMPTS} attempts)`,
    );
  }

  /**
   * Stops the live projection at its current positions. Taken under the apply lock, so no live batch is half-way
   * past the fence; it expires by itself in case this replay dies.
   */
  private async raiseFence(id: string, startAt: Positions): Promise<Positions> {
    return withTransaction(
      this.pool,
      async (client) => {
        await client.query(`SELECT pg_advisory_xact_lock(${applyLockSql('$1::text')})`, [this.options.liveSchema]);
        const now = await livePositions(client, this.options.liveConsumer);
        const fence: Positions = new Map([...startAt.keys()].map((key) => [key, now.get(key) ?? 0n]));
        for (const [key, offset] of now) fence.set(key, offset);
        const entries = [...fence].map(([key, offset]) => [...key.split('\u0000'), offset.toString()]);
        await client.query(
          `INSERT INTO projector_fences (replay_id, topic, partition, fence_offset, expires_at)
             SELECT $1, t, p::int, o::bigint, now() + make_interval(secs => $5)
               FROM unnest($2::text[], $3::text[], $4::text[]) AS x(t, p, o)`,
          [
            id,
            entries.map((e) => e[0]),
            entries.map((e) => e[1]),
            entries.map((e) => e[2]),
            (this.options.fenceTtlMs ?? 60000) / 1000,
          ],
        );
        return fence;
      },
      { lockTimeout: '10s' },
    );
  }

  private async completePreview(
    client: PoolClient,
    id: string,
    shadow: string,
    projection: Projection,
    request: ReplayRequest,
    subjects: number,
  ) {
    const diff: ReplayDiff = {
      ...(await diffShadow(client, this.options.liveSchema, shadow, projection, request.scope)),
      subjectsDiffering: subjects,
    };
    await client.query(
      `UPDATE replays SET state = 'completed', phase = 'completed', diff = $2, finished_at = now(), updated_at = now() WHERE id = $1`,
      [id, JSON.stringify(diff)],
    );
    return { added: diff.added, changed: diff.changed, removed: diff.removed, unchanged: diff.unchanged };
  }

  private async completeRebuild(
    client: PoolClient,
    id: string,
    shadow: string,
    projection: Projection,
    request: ReplayRequest,
    cap: Positions,
  ) {
    const tables = await swapShadowIn(client, this.options.liveSchema, shadow, projection, request.scope);
    const outcome = {
      swapped: true,
      tables,
      // The live consumer goes on from here: the shadow was built up to exactly these positions.
      positions: [...cap].map(([key, offset]) => {
        const [topic, partition] = key.split('\u0000');
        return { topic, partition: Number(partition), offset: offset.toString() };
      }),
    };
    await client.query(
      `UPDATE replays SET state = 'completed', phase = 'completed', outcome = $2, finished_at = now(), updated_at = now() WHERE id = $1`,
      [id, JSON.stringify(outcome)],
    );
    return { swapped: true, tables };
  }

  /** Waits, without holding anything live, until the shadow stands at the live positions. */
  private async catchUp(
    feed: KafkaShadowFeed,
    startAt: Positions,
    status: { kafkaTotal: number },
    signal: AbortSignal,
  ): Promise<void> {
    const stallMs = this.options.stallTimeoutMs ?? 5 * 60_000;
    let lastScanned = -1;
    let lastProgressAt = Date.now();
    for (;;) {
      if (signal.aborted) throw new Cancelled();
      const cap = await livePositions(this.pool, this.options.liveConsumer);
      feed.setCap(cap);
      status.kafkaTotal = span(startAt, cap);
      // Close enough: the fence makes the live projection wait while the shadow takes the rest, so that distance
      // bounds how long the live projection pauses. Chasing a moving head to zero would never end under load.
      if ((await distance(feed, startAt, cap)) <= (this.options.fenceWithin ?? 2000)) return;
      if (feed.scanned !== lastScanned) {
        lastScanned = feed.scanned;
        lastProgressAt = Date.now();
      } else if (Date.now() - lastProgressAt > stallMs) {
        throw new Error(`no progress for ${Math.round(stallMs / 1000)} s: is Kafka reachable?`);
      }
      await sleep(200);
    }
  }

  private async waitFor(check: () => Promise<boolean>, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check()) return true;
      if (signal.aborted || Date.now() > deadline) return false;
      await sleep(50);
    }
  }

  private async eventEstimate(scope: ReplayRequest['scope']): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT coalesce(sum(last_sequence), 0) AS n FROM projector_subjects
        WHERE tenant_id = $1 AND ($2::text IS NULL OR subject_id = $2)`,
      [scope.tenantId, scope.subjectId ?? null],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Replays still marked running whose owner is gone (its session lock is free): failed, shadow dropped. */
  async reap(): Promise<number> {
    const { rows } = await this.pool.query<{
      id: string;
      shadow_schema: string;
      tenant_id: string;
      actor_id: string;
      projection: string;
    }>(`SELECT id, shadow_schema, tenant_id, actor_id, projection FROM replays WHERE state = 'running'`);
    let reaped = 0;
    for (const row of rows.filter((r) => !this.running.has(r.id))) {
      const client = await this.pool.connect();
      try {
        const { rows: got } = await client.query<{ ok: boolean }>(
          `SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok`,
          [row.id],
        );
        if (!got[0]?.ok) continue;
        try {
          await client.query(`DELETE FROM projector_fences WHERE replay_id = $1`, [row.id]);
          await dropShadow(client, row.shadow_schema);
          const error =
            'interrupted: the projector running it stopped before it finished; the live read model was not changed';
          const { rowCount } = await client.query(
            `UPDATE replays SET state = 'failed', phase = 'interrupted', error = $2, finished_at = now(), updated_at = now()
              WHERE id = $1 AND state = 'running'`,
            [row.id, error],
          );
          if (rowCount) {
            reaped++;
            await this.audit(
              { actorId: 'projector', tenantId: row.tenant_id },
              'replay.outcome',
              { projection: row.projection, replayId: row.id },
              'failed',
              { error, requestedBy: row.actor_id },
            );
          }
        } finally {
          await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [row.id]);
        }
      } finally {
        client.release();
      }
    }
    return reaped;
  }

  private async deleteGroup(groupId: string): Promise<void> {
    const admin = this.options.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([groupId]);
    } catch {
      // An empty group without offsets expires by itself.
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private audit(who: Requester, action: string, target: Record<string, unknown>, outcome: string, details: unknown) {
    return recordAdminAction(this.pool, {
      actorId: who.actorId,
      tenantId: who.tenantId,
      action,
      target,
      outcome,
      details,
    });
  }
}

async function livePositions(db: Queryable, consumer: string): Promise<Positions> {
  const { rows } = await db.query<{ topic: string; partition: number; next_offset: string }>(
    `SELECT topic, partition, next_offset FROM projector_offsets WHERE consumer = $1`,
    [consumer],
  );
  return new Map(rows.map((r) => [positionKey(r.topic, r.partition), BigInt(r.next_offset)]));
}

/** How many Kafka messages the shadow still has to read to stand at `cap`. */
async function distance(feed: KafkaShadowFeed, startAt: Positions, cap: Positions): Promise<number> {
  const at = await feed.positions();
  let behind = 0n;
  for (const [key, target] of cap) {
    const here = at.get(key) ?? startAt.get(key) ?? 0n;
    if (here < target) behind += target - here;
  }
  return Number(behind);
}

async function caughtUp(feed: KafkaShadowFeed, startAt: Positions, cap: Positions): Promise<boolean> {
  return (await distance(feed, startAt, cap)) === 0;
}

function span(startAt: Positions, cap: Positions): number {
  let total = 0n;
  for (const [key, target] of cap) {
    const start = startAt.get(key) ?? 0n;
    if (target > start) total += target - start;
  }
  return Number(total);
}
