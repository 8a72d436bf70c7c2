import { appendEventsStatement, newKeysStatement } from '@event-spine/event-log';
import type { EventEnvelope } from '@event-spine/events';
import { enqueueOutboxStatement, type OutboxMessage } from '@event-spine/outbox';
import { combineWrites, prepared, type Statement } from '@event-spine/persistence';
import { storeResponsesStatement, type StoredResponse } from './idempotency.store';
import { saveSubjectStatesStatements, type SubjectStateChange } from './subject-state.store';

/** What one decided command writes, gathered so the commands of one transaction write each table once. */
export interface CommandWrites {
  changes: SubjectStateChange[];
  /** Keys of data subjects seen for the first time. */
  fresh: ReadonlyMap<string, Buffer>;
  events: EventEnvelope[];
  hashes: Buffer[];
  messages: OutboxMessage[];
  /** The first response to the command's Idempotency-Key. */
  response?: { key: string; actionId: string } & StoredResponse;
  /** When it was decided: the subjects' `updated_at`. */
  now: string;
}

/**
 * The writes of one tenant's commands as one prepared statement: each table written once for all of them, in the
 * commands' order (so the outbox positions of a subject's rows follow its sequence). Its text depends only on which
 * tables are written, not on how many rows, so a connection plans a handful of shapes once.
 *
 * Guarded: every subject is saved only if it is still at the sequence it was loaded at, and every new data subject's
 * key only if none appeared since the opening read. A miss fails the statement (serialization_failure), so COMMIT, sent
 * after it, never runs. Undefined when nothing is written.
 */
export function writesStatement(tenantId: string, commands: readonly CommandWrites[]): Statement | undefined {
  const changes = commands.flatMap((c) => c.changes);
  const fresh = new Map(commands.flatMap((c) => [...c.fresh]));
  const events = commands.flatMap((c) => c.events);
  const responses = commands.flatMap((c) => (c.response ? [c.response] : []));
  const saves = saveSubjectStatesStatements(tenantId, changes, commands[commands.length - 1]?.now ?? '');
  const writes: Statement[] = [...saves];
  if (fresh.size > 0) writes.push(newKeysStatement(tenantId, fresh));
  if (events.length > 0) {
    writes.push(
      appendEventsStatement(
        events,
        commands.flatMap((c) => c.hashes),
      ),
    );
    writes.push(enqueueOutboxStatement(commands.flatMap((c) => c.messages)));
  }
  if (responses.length > 0) writes.push(storeResponsesStatement(tenantId, responses));
  if (writes.length === 0) return undefined;
  // The expected counts are parameters after the writes' own, so the text stays the same for any count.
  const counts: number[] = [];
  const expected = (n: number) => `$${writes.reduce((sum, w) => sum + w.values.length, 0) + counts.push(n)}::bigint`;
  const written = saves.map((_, i) => `(SELECT count(*) FROM s${i})`).join(' + ') || '0';
  const checks = [`spine_expect_rows(${written}, ${expected(changes.length)}, 'subject_state') AS saved`];
  if (fresh.size > 0) {
    checks.push(
      `spine_expect_rows((SELECT count(*) FROM s${saves.length}), ${expected(fresh.size)}, 'data_subject_keys')`,
    );
  }
  const combined = combineWrites(writes, { checks });
  // Prepared: planning this statement cost PostgreSQL more than running it.
  return prepared({ text: combined.text, values: [...combined.values, ...counts] });
}
