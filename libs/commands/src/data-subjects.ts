import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { DomainError, subjectKey, type SubjectRef } from '@event-spine/domain';
import {
  appendEvents,
  chainHash,
  computeSubjectHead,
  destroyKey,
  previousHashFor,
  readSubjectEvents,
  type Queryable,
} from '@event-spine/event-log';
import {
  DATA_SUBJECT_FORGOTTEN,
  type DataSubjectForgottenPayload,
  type EventCatalog,
  type EventEnvelope,
} from '@event-spine/events';
import { traceHeaders } from '@event-spine/observability';
import { enqueueOutbox, toOutboxMessage } from '@event-spine/outbox';
import type { DomainModel } from './domain-model';
import { lockSubjects, replaceSubjectState } from './subject-state.store';

export interface ForgetRequest {
  tenantId: string;
  dataSubjectId: string;
  actorId: string;
  actorType: string;
  spaceId: string;
  correlationId: string;
  reason?: string;
}

export interface ForgetOutcome {
  dataSubjectId: string;
  forgottenAt: string;
  /** False when the data subject had been forgotten before: nothing was recorded this time. */
  forgottenNow: boolean;
  /** The `DataSubjectForgotten` event (absent for a data subject forgotten before any was recorded). */
  eventId?: string;
  /** The subjects whose events held their personal data, and whose state was folded again without it. */
  subjects: SubjectRef[];
}

/** The subjects whose events hold a data subject's sealed fields. */
async function subjectsHolding(db: Queryable, tenantId: string, dataSubjectId: string): Promise<SubjectRef[]> {
  const rows = await db.query<{ subject_type: string; subject_id: string }[]>(
    `SELECT DISTINCT subject_type, subject_id FROM event_log WHERE tenant_id = $1 AND data_subject_id = $2`,
    [tenantId, dataSubjectId],
  );
  return rows.map((r) => ({ subjectType: r.subject_type, subjectId: r.subject_id }));
}

const sorted = (refs: SubjectRef[]) => [...refs].sort((a, b) => (subjectKey(a) < subjectKey(b) ? -1 : 1));

/**
 * Forgets a data subject (crypto-shredding), in one transaction: destroys their key, folds again the state of every
 * subject whose events held their personal fields (which now read as null), and records `DataSubjectForgotten` on
 * the data subject's own chain, with an outbox row so projectors erase what their read models copied. Nothing in the
 * log changes, so every hash chain still verifies. Forgetting again records nothing and answers as before.
 *
 * Locks: the subjects first, then the key row, the order commands take them in (a command locks its subjects, then
 * upserts the key), so the two never wait for each other crosswise. A command that sealed with the key and is still
 * in flight holds the key row: destroying it waits for that command's commit, and the subjects are looked up again
 * after it.
 */
export class DataSubjects {
  constructor(
    private readonly dataSource: DataSource,
    private readonly domain: DomainModel,
    private readonly options: {
      catalog: EventCatalog;
      topicPrefix: string;
      onCommitted?: (messageKeys?: readonly string[]) => void;
    },
  ) {}

  async forget(request: ForgetRequest): Promise<ForgetOutcome> {
    const dataSubjectType = this.options.catalog.dataSubjectType;
    if (!dataSubjectType) {
      throw new DomainError(
        'conflict',
        'NO_PERSONAL_DATA',
        `The ${this.options.catalog.name} catalog declares no personal fields: there is nothing to forget`,
      );
    }
    const outcome = await this.dataSource.transaction((tx) => this.attempt(tx, dataSubjectType, request));
    // Its rows' keys are not at hand here: the relay is told to look at every bucket.
    if (outcome.forgottenNow) this.options.onCommitted?.();
    return outcome;
  }

  private async attempt(tx: EntityManager, dataSubjectType: string, r: ForgetRequest): Promise<ForgetOutcome> {
    const self = { subjectType: dataSubjectType, subjectId: r.dataSubjectId };
    const locked = new Set<string>();
    const lock = async (refs: SubjectRef[]) => {
      const fresh = sorted(refs.filter((ref) => !locked.has(subjectKey(ref))));
      await lockSubjects(tx, r.tenantId, fresh);
      for (const ref of fresh) locked.add(subjectKey(ref));
    };
    await lock([self, ...(await subjectsHolding(tx, r.tenantId, r.dataSubjectId))]);
    const destroyed = await destroyKey(tx, r.tenantId, r.dataSubjectId, r.actorId);
    const subjects = await subjectsHolding(tx, r.tenantId, r.dataSubjectId);
    if (!destroyed.now) {
      const [event] = await readSubjectEvents(tx, this.options.catalog, { tenantId: r.tenantId, ...self, limit: 1 });
      return {
        dataSubjectId: r.dataSubjectId,
        forgottenAt: destroyed.forgottenAt.toISOString(),
        forgottenNow: false,
        eventId: event?.id,
        subjects,
      };
    }
    // Committed by a command the key row made wait: its subjects are not locked yet, and nothing holds them now.
    await lock(subjects);
    for (const ref of subjects) await this.foldAgain(tx, r.tenantId, ref);
    const event = await this.record(tx, self, r, subjects, destroyed.forgottenAt);
    return {
      dataSubjectId: r.dataSubjectId,
      forgottenAt: destroyed.forgottenAt.toISOString(),
      forgottenNow: true,
      eventId: event.id,
      subjects,
    };
  }

  /** The subject's state folded from its events as they read now (the forgotten fields null). */
  private async foldAgain(tx: EntityManager, tenantId: string, ref: SubjectRef): Promise<void> {
    let state = this.domain.initialState(ref.subjectType);
    for (let after = 0; ;) {
      const events = await readSubjectEvents(tx, this.options.catalog, {
        tenantId,
        ...ref,
        afterSequence: after,
        limit: 1000,
      });
      for (const e of events) state = this.domain.evolve(ref.subjectType, state, e);
      if (events.length < 1000) break;
      after = events[events.length - 1].sequence;
    }
    await replaceSubjectState(tx, tenantId, ref, state);
  }

  private async record(
    tx: EntityManager,
    self: SubjectRef,
    r: ForgetRequest,
    subjects: SubjectRef[],
    at: Date,
  ): Promise<EventEnvelope> {
    const head = await computeSubjectHead(tx, r.tenantId, self.subjectType, self.subjectId);
    const invocationId = randomUUID();
    const payload: DataSubjectForgottenPayload = { subjects, ...(r.reason ? { reason: r.reason } : {}) };
    const envelope: EventEnvelope = {
      id: randomUUID(),
      tenantId: r.tenantId,
      spaceId: r.spaceId,
      eventType: DATA_SUBJECT_FORGOTTEN,
      eventSchemaVersion: 1,
      ...self,
      actorId: r.actorId,
      actorType: r.actorType,
      actionInvocationId: invocationId,
      payload,
      sequence: head.sequence + 1,
      occurredAt: at.toISOString(),
      recordedAt: at.toISOString(),
      correlationId: r.correlationId,
      causationId: invocationId,
    };
    await appendEvents(tx, [envelope], [chainHash(previousHashFor(envelope.sequence, head.hash), envelope)]);
    await enqueueOutbox(tx, [
      toOutboxMessage(envelope, this.options.catalog, this.options.topicPrefix, traceHeaders()),
    ]);
    return envelope;
  }
}
