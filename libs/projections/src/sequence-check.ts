/** Where an event stands against its subject's position in a projector: the rule every arriving event goes through. */
export type SequenceVerdict =
  /** The subject is parked: the event waits behind the parked one, in order. */
  | { kind: 'behind-parked' }
  /** No usable sequence: the event can never be placed, so it parks the subject as poison. */
  | { kind: 'bad-sequence' }
  /** At or below the last applied one: the relay sent it again; counted and skipped. */
  | { kind: 'duplicate' }
  /** Past the next one: `missing` sequences (from `from` to `to`) must be filled first, or the subject parks. */
  | { kind: 'gap'; from: number; to: number }
  /** Exactly the next one: applied. */
  | { kind: 'next' };

export function checkSequence(subject: { last: number; parked: boolean }, sequence: unknown): SequenceVerdict {
  if (subject.parked) return { kind: 'behind-parked' };
  if (typeof sequence !== 'number' || !Number.isInteger(sequence) || sequence < 1) return { kind: 'bad-sequence' };
  if (sequence <= subject.last) return { kind: 'duplicate' };
  if (sequence > subject.last + 1) return { kind: 'gap', from: subject.last + 1, to: sequence - 1 };
  return { kind: 'next' };
}
