import type { DomainEvent } from '@event-spine/events';

/** An event as the fold sees it: the decided fact with the identity and times the shell gave it when recording it. */
export type RecordedEvent<E extends DomainEvent = DomainEvent> = E & {
  id: string;
  sequence: number;
  recordedAt: string;
  occurredAt: string;
};

/** How the subjects of the domain start and change: the fold the executor keeps current state with. */
export interface DomainModel {
  initialState(subjectType: string): unknown;
  /** Folds one event into its subject's state; the event comes as recorded (with its id, sequence and times). */
  evolve(subjectType: string, state: unknown, event: RecordedEvent): unknown;
}

/** How one subject type starts and changes: its state before any event, and the pure fold of its events. */
export interface SubjectModel<S, E extends DomainEvent> {
  initial: S;
  evolve(state: S, event: RecordedEvent<E>): S;
}

/** Per subject type, its state and the events recorded on it: `{customer: {state: CustomerState; event: CustomerEvent}}`. */
export type SubjectTypes = Record<string, { state: unknown; event: DomainEvent }>;

/**
 * Declares a domain's model, one typed fold per subject type. The executor only ever hands a subject's fold the events
 * recorded on that subject (the catalog ties each event type to one subject type), and a subject type the model does
 * not know is a configuration error, never a silent no-op.
 */
export function defineDomainModel<M extends SubjectTypes>(subjects: {
  [T in keyof M]: SubjectModel<M[T]['state'], M[T]['event']>;
}): DomainModel {
  const byType = subjects as Record<string, SubjectModel<unknown, DomainEvent> | undefined>;
  const model = (subjectType: string): SubjectModel<unknown, DomainEvent> => {
    const found = byType[subjectType];
    if (!found) {
      throw new Error(
        `no model for subject type ${JSON.stringify(subjectType)} (known: ${Object.keys(subjects).join(', ')})`,
      );
    }
    return found;
  };
  return {
    initialState: (subjectType) => model(subjectType).initial,
    evolve: (subjectType, state, event) => model(subjectType).evolve(state, event),
  };
}
