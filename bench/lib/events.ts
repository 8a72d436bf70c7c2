import { createHash, randomUUID } from 'node:crypto';
import { ledgerCatalog } from '@ledger/contract';
import { serializeEnvelope, type EventEnvelope } from '@event-spine/events';
import { toOutboxMessage, type OutboxMessage } from '@event-spine/outbox';
import { benchConfig } from './config';

/**
 * Valid ledger events as the command service would have written them: per account an AccountOpened (sequence 1)
 * and then deposits (2, 3, ...). Events are interleaved round-robin over the accounts, so a batch touches many
 * subjects (as concurrent traffic does), while each subject's events stay in sequence order in the stream.
 */
export class EventStream {
  readonly accounts: number;

  constructor(
    /** Distinguishes the accounts of one stream from another's, so streams can share topics. */
    private readonly namespace: string,
    readonly total: number,
    private readonly eventsPerAccount: number,
  ) {
    this.accounts = Math.max(1, Math.ceil(total / eventsPerAccount));
  }

  accountId(account: number): string {
    const ns = createHash('sha1').update(this.namespace).digest('hex').slice(0, 8);
    return `${ns}-0000-4000-8000-${account.toString(16).padStart(12, '0')}`;
  }

  /** The sequence of an account's last event in the stream. */
  lastSequence(account: number): number {
    return Math.floor((this.total - 1 - account) / this.accounts) + 1;
  }

  envelope(index: number, recordedAt = new Date().toISOString()): EventEnvelope {
    const account = index % this.accounts;
    const sequence = Math.floor(index / this.accounts) + 1;
    const invocation = randomUUID();
    const opened = sequence === 1;
    return {
      id: randomUUID(),
      tenantId: benchConfig.tenantId,
      spaceId: 'space-1',
      eventType: opened ? 'AccountOpened' : 'FundsDeposited',
      eventSchemaVersion: ledgerCatalog.versionOf(opened ? 'AccountOpened' : 'FundsDeposited'),
      subjectType: 'account',
      subjectId: this.accountId(account),
      actorId: 'bench-user',
      actorType: 'user',
      actionInvocationId: invocation,
      payload: opened ? { ownerName: `Bench Owner ${account}`, currency: 'EUR' } : { amount: 100 + (index % 900) },
      sequence,
      occurredAt: recordedAt,
      recordedAt,
      correlationId: invocation,
      causationId: invocation,
    };
  }

  /** The Kafka messages of events [from, to), exactly as the outbox writer stores them. */
  messages(topicPrefix: string, from: number, to: number): OutboxMessage[] {
    const at = new Date().toISOString();
    const out: OutboxMessage[] = [];
    for (let i = from; i < Math.min(to, this.total); i++)
      out.push(toOutboxMessage(this.envelope(i, at), ledgerCatalog, topicPrefix));
    return out;
  }
}

/** Size of a typical serialized envelope, for the report (the payload sizes the baselines use). */
export function typicalEnvelopeBytes(): number {
  const s = new EventStream('size', 2, 2);
  return Buffer.byteLength(serializeEnvelope(s.envelope(1)));
}
