/** What the causality query follows: one command invocation's events, or one conversation's. */
export type CausalKey = { actionInvocationId: string } | { correlationId: string };

/** Where an event is on Kafka, as the relay recorded it when the broker acknowledged it. */
export interface Publication {
  published: boolean;
  topic?: string;
  partition?: number;
  /** Kafka offset, as a decimal string. */
  offset?: string;
}
