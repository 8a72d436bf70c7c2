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

/** The events of a catalog's union that belong to the subject type whose fold is being declared. */
type SubjectModels<E extends DomainEvent, States extends Record<string, unknown>> = {
  [T in keyof States]: SubjectModel<States[T], E>;
};

/**
 * Declares a domain's model, one typed fold per subject type (`defineDomainModel<ConsentsEvent, {customer:
 * CustomerState}>({customer: {initial, evolve}})`). The executor only ever hands a subject's fold the events recorded
 * on that subject, and a subject type the model does not know is a configuration error, never a silent no-op.
 */
export function defineDomainModel<E extends DomainEvent, States extends Record<string, unknown>>(
  subjects: SubjectModels<E, States>,
): DomainModel {
  const model = (subjectType: string): SubjectModel<unknown, E> => {
    const found = (subjects as Record<string, SubjectModel<unknown, E> | undefined>)[subjectType];
    if (!found) {
      throw new Error(
        `no model for subject type ${JSON.stringify(subjectType)} (known: ${Object.keys(subjects).join(', ')})`,
      );
    }
    return found;
  };
  return {
    initialState: (subjectType) => model(subjectType).initial,
    evolve: (subjectType, state, event) => model(subjectType).evolve(state, event as RecordedEvent<E>),
  };
}
