/**
 * Schema evolution. Every event type has a current schema version (in its domain's catalog); an older stored version
 * is upcast, one version at a time, wherever events are read (APIs, folds, projections, replay), so readers only ever
 * see current shapes. The stored event is never rewritten.
 */
export class UnknownEventError extends Error {
  constructor(
    readonly reason: 'unknown-type' | 'unknown-version' | 'bad-payload',
    message: string,
  ) {
    super(message);
    this.name = 'UnknownEventError';
  }
}

export interface Versioned {
  eventType: string;
  eventSchemaVersion: number;
  payload: unknown;
}
