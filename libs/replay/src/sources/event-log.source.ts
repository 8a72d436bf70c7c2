import type { EventEnvelope } from '@event-spine/events';
import type { ProjectionRunner } from '@event-spine/projections';

/**
 * Reads one page of a tenant's canonical event log in commit order (the command service's `GET /v1/events`): the
 * source of truth when Kafka retention no longer holds the history.
 */
export type EventLogReader = (
  tenantId: string,
  after: string | undefined,
  limit: number,
) => Promise<{ events: EventEnvelope[]; nextCursor: string | null }>;

export interface EventLogProgress {
  read: number;
  applied: number;
}

/**
 * Applies a tenant's whole event log to the shadow, page by page, one transaction per page, until a page comes back
 * empty. Events recorded before `since` (a timestamp range) are passed over.
 */
export async function feedFromEventLog(
  read: EventLogReader,
  runner: ProjectionRunner,
  options: {
    tenantId: string;
    subjectId?: string;
    since?: number;
    pageSize: number;
    progress: EventLogProgress;
    cancelled: () => boolean;
  },
): Promise<void> {
  let cursor: string | undefined;
  for (;;) {
    if (options.cancelled()) return;
    const page = await read(options.tenantId, cursor, options.pageSize);
    if (page.events.length === 0) return;
    const wanted = page.events.filter(
      (e) =>
        (options.subjectId === undefined || e.subjectId === options.subjectId) &&
        (options.since === undefined || Date.parse(e.recordedAt) >= options.since),
    );
    const outcome = await runner.processEvents(wanted, 'event-log');
    options.progress.read += page.events.length;
    options.progress.applied += outcome.applied;
    cursor = page.nextCursor ?? cursor;
  }
}
