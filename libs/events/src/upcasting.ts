import { isLedgerEventType, type LedgerEvent, type LedgerEventType } from './ledger-events';

/**
 * Schema evolution. Every event type has a current schema version; an older stored version is upcast, one version
 * at a time, wherever events are read (APIs, folds, projections, replay), so readers only ever see current shapes.
 * The stored event is never rewritten.
 */
export const CURRENT_SCHEMA_VERSION: Record<LedgerEventType, number> = {
  // v1 named the owner `owner`; v2 (current) says `ownerName`, as the API does.
  AccountOpened: 2,
  FundsDeposited: 1,
  FundsWithdrawn: 1,
  EntryReversed: 1,
  AccountClosed: 1,
  TransferRequested: 1,
  TransferCompleted: 1,
};

type Upcaster = (payload: Record<string, unknown>) => Record<string, unknown>;

/** `UPCASTERS[type][v]` turns a version-v payload into version v+1. */
export const UPCASTERS: Partial<Record<LedgerEventType, Record<number, Upcaster>>> = {
  AccountOpened: {
    1: ({ owner, ...rest }) => ({ ...rest, ownerName: owner }),
  },
};

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

/** Returns the event at its current schema version; throws UnknownEventError for what this code cannot read. */
export function upcast<E extends Versioned>(event: E): E & LedgerEvent {
  if (!isLedgerEventType(event.eventType)) {
    throw new UnknownEventError('unknown-type', `unknown event type ${event.eventType}`);
  }
  const current = CURRENT_SCHEMA_VERSION[event.eventType];
  const version = event.eventSchemaVersion;
  if (!Number.isInteger(version) || version < 1 || version > current) {
    throw new UnknownEventError(
      'unknown-version',
      `${event.eventType} schema version ${version} is not readable (current is ${current})`,
    );
  }
  if (typeof event.payload !== 'object' || event.payload === null || Array.isArray(event.payload)) {
    throw new UnknownEventError('bad-payload', `${event.eventType} payload is not an object`);
  }
  let payload = event.payload as Record<string, unknown>;
  for (let v = version; v < current; v++) {
    const step = UPCASTERS[event.eventType]?.[v];
    if (!step) throw new UnknownEventError('unknown-version', `no upcaster for ${event.eventType} v${v}`);
    payload = step(payload);
  }
  return { ...event, eventSchemaVersion: current, payload } as E & LedgerEvent;
}
