import { Kafka } from 'kafkajs';
import { uniqueName, waitFor } from '@event-spine/testing';
import type { Pipeline } from './pipeline';
import { expectReadModelsToEqualTheFold, foldReadModels, logEvents } from './read-models';

export interface InvariantReport {
  events: number;
  subjects: number;
  kafkaMessages: number;
  kafkaDuplicates: number;
}

/**
 * The invariant every fault scenario ends with:
 *  - every subject's sequences in the event log are 1..n without a gap;
 *  - every event of the log is on Kafka, and each subject's events first arrive in sequence order;
 *  - every read model equals the fold of the event log (nothing lost, nothing applied twice);
 *  - every account's balance equals what the acknowledged commands say it must be (no command lost or doubled,
 *    even when it was retried across a crash).
 */
export async function expectInvariants(
  pipeline: Pipeline,
  expectedBalances?: ReadonlyMap<string, number>,
): Promise<InvariantReport> {
  const { rows: broken } = await pipeline.commandSchema.pool.query<{ subject: string }>(
    `SELECT subject_type || '/' || subject_id AS subject FROM event_log
      GROUP BY tenant_id, subject_type, subject_id
     HAVING min(sequence) <> 1 OR max(sequence) <> count(*)`,
  );
  expect(broken).toEqual([]);

  const events = await logEvents(pipeline);
  const wanted = new Set(events.map((e) => e.id));
  const firstSeen = new Map<string, number[]>();
  const seen = new Set<string>();
  let messages = 0;
  const kafka = new Kafka({ clientId: uniqueName('verify'), brokers: pipeline.kafkaBrokers.split(','), logLevel: 0 });
  const consumer = kafka.consumer({ groupId: uniqueName('verify'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: pipeline.topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages++;
      let e: { id?: string; tenantId?: string; subjectId?: string; sequence?: number };
      try {
        e = JSON.parse(message.value?.toString() ?? '') as typeof e;
      } catch {
        return; // an injected poison message: not an event of the log
      }
      if (!e.id || !wanted.has(e.id) || seen.has(e.id)) return;
      seen.add(e.id);
      const key = `${e.tenantId}/${e.subjectId}`;
      firstSeen.set(key, [...(firstSeen.get(key) ?? []), e.sequence ?? -1]);
    },
  });
  try {
    await waitFor(() => seen.size === wanted.size, { timeoutMs: 90_000, message: 'every event of the log on Kafka' });
  } finally {
    await consumer.disconnect();
  }
  for (const [subject, sequences] of firstSeen) {
    expect({ subject, sequences }).toEqual({ subject, sequences: sequences.map((_, i) => i + 1) });
  }

  await expectReadModelsToEqualTheFold(pipeline, 90_000);
  if (expectedBalances) {
    const folded = new Map(foldReadModels(await logEvents(pipeline)).balances.map((b) => [b.account_id, b.balance]));
    for (const [account, balance] of expectedBalances)
      expect({ account, balance: folded.get(account) }).toEqual({ account, balance });
  }
  return {
    events: events.length,
    subjects: firstSeen.size,
    kafkaMessages: messages,
    kafkaDuplicates: messages - seen.size,
  };
}
