import type { DomainEvent, EventEnvelope } from '@event-spine/events';
import type { Statement } from '@event-spine/persistence';

/** A statement and its parameters ($1, $2, …): what `batchStatements` answers. */
export type { Statement };

export interface Queryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<{ rows: T[]; rowCount: number | null }>;
}

/** An event as a projection sees it: the envelope at its current schema version, typed by the domain's events. */
export type ProjectedEvent<E extends DomainEvent = DomainEvent> = EventEnvelope & E;

/**
 * A projection, declared as data: its name and version, the event types it handles, the tables it owns and how one
 * event changes them. `apply` runs inside the projector's batch transaction; it must be a pure function of the event
 * and the projection's own tables, so replaying the log rebuilds the same rows.
 */
export interface Projection<E extends DomainEvent = DomainEvent> {
  name: string;
  version: number;
  handles: readonly E['eventType'][];
  tables: readonly string[];
  /**
   * Columns that every one of its tables carries, naming whose data a row is: the tenant, and the subject when rows
   * belong to one subject. A scoped replay compares and swaps exactly the rows these select.
   */
  scope: { tenantColumn: string; subjectColumn?: string };
  apply(db: Queryable, event: ProjectedEvent<E>): Promise<void>;
  /**
   * Optional set-based form of `apply` for a batch: the events it handles, in the order they are to be applied (each
   * subject's in sequence). It must leave exactly the rows that `apply` would, event by event, and fail whenever one of
   * those calls would fail (the runner then falls back to `apply` to find the culprit). A few statements per batch
   * instead of a few per event is what makes live apply and rebuilds fast.
   */
  applyBatch?(db: Queryable, events: readonly ProjectedEvent<E>[]): Promise<void>;
  /**
   * The set-based form as data, preferred to `applyBatch` when declared: the statements that apply a batch, built
   * without reading anything. The runner sends them with the batch's own writes and COMMIT in one round trip, so a
   * batch costs the same round trips however many statements its projections have. The same rules as `applyBatch`: exactly the rows `apply` leaves, and a failure whenever it would fail.
   * Each text is prepared once per connection: values go in parameters (arrays for a batch), never into the text.
   */
  batchStatements?(events: readonly ProjectedEvent<E>[]): readonly Statement[];
}

/**
 * Declares a projection over a domain's events (`defineProjection<OrderEvent>({...})`). The runner hands it only the
 * event types it `handles`, already upcast, so its handlers switch on `eventType` with no casts.
 */
export function defineProjection<E extends DomainEvent>(projection: Projection<E>): Projection {
  return projection;
}
