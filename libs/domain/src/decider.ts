/** The functional core of a command: what is decided from state, and how state follows from events. Pure. */

export interface SubjectRef {
  subjectType: string;
  subjectId: string;
}

export const subjectKey = (ref: SubjectRef): string => `${ref.subjectType}:${ref.subjectId}`;

/** An event decided by a command, before the shell gives it an id, a sequence and metadata. */
export interface PendingEvent<
  E extends { eventType: string; payload: unknown } = { eventType: string; payload: unknown },
> {
  subjectType: string;
  subjectId: string;
  event: E;
  /** Index of an earlier event of the same decision that caused this one; absent: caused by the invocation. */
  causedBy?: number;
  /** When the fact happened in the world, if the caller said so (backfills); defaults to the recording time. */
  occurredAt?: string;
}

export interface Loaded<S> {
  state: S;
  /** Sequence of the last event of the subject; 0 for a subject with no events. */
  sequence: number;
}
