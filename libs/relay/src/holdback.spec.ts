import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { MultipleErrors, NetworkError, ProtocolError, ResponseError, UserError } from '@platformatic/kafka';
import { describeSendFailure } from '@event-spine/kafka';
import {
  DEFAULT_RETRIABLE_BOUND_MS,
  holdBackoffMs,
  Holds,
  isKafkaAway,
  isRetriable,
  narrow,
  narrowed,
  rowFault,
  type Narrowing,
  type Probe,
} from './holdback';

/** What kafkajs throws for a broker's error code, the way `createErrorFromCode` builds it. */
function brokerError(type: string, retriable: boolean) {
  return new KafkaJSProtocolError(Object.assign(new Error(`broker says ${type}`), { type, code: 0, retriable }));
}
/** Its producer gives up after its retries and wraps the last error. */
const retriesExceeded = (e: Error) => new KafkaJSNumberOfRetriesExceeded(e, { retryCount: 5, retryTime: 2000 });

describe('rowFault', () => {
  const fresh = { refusingForMs: 0, boundMs: DEFAULT_RETRIABLE_BOUND_MS, suspect: false };
  const long = { ...fresh, refusingForMs: DEFAULT_RETRIABLE_BOUND_MS };

  it('blames the rows at once for a missing topic, however kafkajs wraps it', () => {
    const unknown = brokerError('UNKNOWN_TOPIC_OR_PARTITION', true);
    expect(rowFault(unknown, fresh)).toBe('unknown-topic');
    expect(rowFault(retriesExceeded(unknown), fresh)).toBe('unknown-topic');
  });

  it('blames the rows at once for an error Kafka calls final', () => {
    expect(rowFault(brokerError('MESSAGE_TOO_LARGE', false), fresh)).toBe('refused');
  });

  it('blames the rows for a retriable refusal only once it lasted the bound, or when they are suspects already', () => {
    const noLeader = retriesExceeded(brokerError('LEADER_NOT_AVAILABLE', true));
    expect(rowFault(noLeader, fresh)).toBeUndefined();
    expect(rowFault(noLeader, { ...fresh, refusingForMs: DEFAULT_RETRIABLE_BOUND_MS - 1 })).toBeUndefined();
    expect(rowFault(noLeader, long)).toBe('retrying-too-long');
    expect(rowFault(noLeader, { ...fresh, suspect: true })).toBe('retrying-too-long');
  });

  it('never blames the rows for a broker that does not answer: every bucket waits for it alike', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    // What kafkajs throws while the broker is down: its connection error, wrapped as non-retriable once it gave up.
    const down = Object.assign(new KafkaJSNonRetriableError(refused), { cause: refused });
    expect(down.retriable).toBe(false);
    const hung = retriesExceeded(new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out'));
    for (const away of [down, hung, retriesExceeded(refused)]) {
      expect(isRetriable(away)).toBe(true);
      expect(rowFault(away, long)).toBeUndefined();
      expect(rowFault(away, { ...long, suspect: true })).toBeUndefined();
    }
    expect(rowFault(new Error('socket hang up'), long)).toBeUndefined();
  });
});

describe('rowFault, on what the @platformatic/kafka adapter throws', () => {
  const fresh = { refusingForMs: 0, boundMs: DEFAULT_RETRIABLE_BOUND_MS, suspect: false };
  const long = { ...fresh, refusingForMs: DEFAULT_RETRIABLE_BOUND_MS };
  const failure = (error: Error) => describeSendFailure(new MultipleErrors('Producing messages failed.', [error]));

  it('blames the rows at once for a topic the client found missing in the metadata', () => {
    expect(rowFault(failure(new UserError('Unknown topic spine.x.events.')), fresh)).toBe('unknown-topic');
    expect(rowFault(failure(new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION')), fresh)).toBe('unknown-topic');
  });

  it('blames the rows at once for an error the broker calls final', () => {
    expect(rowFault(failure(new ProtocolError('MESSAGE_TOO_LARGE')), fresh)).toBe('refused');
  });

  it('blames the rows for a retriable refusal only once it lasted the bound', () => {
    const refusal = failure(new ResponseError(0, 9, { '/topics/0/partitions/0': [19, null] }, undefined));
    expect(rowFault(refusal, fresh)).toBeUndefined();
    expect(rowFault(refusal, long)).toBe('retrying-too-long');
  });

  it('never blames the rows for a broker nobody answers at', () => {
    const away = failure(new MultipleErrors('Cannot connect to any broker.', [new NetworkError('Connection failed.')]));
    expect(isKafkaAway(away)).toBe(true);
    expect(rowFault(away, { ...long, suspect: true })).toBeUndefined();
  });
});

describe('narrow', () => {
  const rows = (...buckets: number[]) => buckets.map((bucket) => ({ bucket }));

  it('splits whole buckets first, each half with as many rows as the failed send had of them', () => {
    expect(narrow(rows(7, 3, 7, 9, 3, 1), 'refused')).toEqual({
      probe: {
        reads: [
          { bucket: 7, limit: 2 },
          { bucket: 3, limit: 2 },
        ],
      },
      then: {
        reads: [
          { bucket: 9, limit: 1 },
          { bucket: 1, limit: 1 },
        ],
      },
      reason: 'refused',
    });
  });

  it('then the rows of the one bucket left, and stops at one row', () => {
    expect(narrow(rows(5, 5, 5, 5, 5), 'unknown-topic')).toEqual({
      probe: { reads: [{ bucket: 5, limit: 2 }] },
      then: { reads: [{ bucket: 5, limit: 3 }] },
      reason: 'unknown-topic',
    });
    expect(narrow(rows(5), 'refused')).toBeUndefined();
  });

  /**
   * The relay's reads, modelled: each bucket is read from its cursor, the oldest rows of the probed buckets first;
   * a send fails if it holds a bad row, and advances the cursors if not.
   */
  function isolate(outbox: { bucket: number; id: string; bad?: boolean }[], batchSize: number) {
    const cursor = new Map<number, number>(); // index in outbox of the last published row per bucket
    const published: string[] = [];
    const read = ({ reads }: Probe) =>
      reads.flatMap(({ bucket, limit }) =>
        outbox.filter((r, i) => r.bucket === bucket && i > (cursor.get(r.bucket) ?? -1)).slice(0, limit),
      );
    const send = (batch: typeof outbox) => {
      if (batch.some((r) => r.bad)) return false;
      for (const r of batch) {
        cursor.set(r.bucket, outbox.indexOf(r));
        published.push(r.id);
      }
      return true;
    };
    const all = [...new Set(outbox.map((r) => r.bucket))];
    // A batch reads a share of the batch size from every bucket, as the relay does when all of them have a backlog.
    const share = Math.max(1, Math.floor(batchSize / all.length));
    let batch = read({ reads: all.map((bucket) => ({ bucket, limit: share })) });
    expect(send(batch)).toBe(false);
    let narrowing: Narrowing | undefined = narrow(batch, 'refused');
    let sends = 1;
    while (narrowing) {
      batch = read(narrowing.probe);
      sends++;
      if (send(batch)) narrowing = narrowed(narrowing);
      else {
        narrowing = narrow(batch, 'refused');
        if (!narrowing) return { culprit: batch, published, sends };
      }
    }
    return { culprit: [], published, sends };
  }

  it('finds the bad row in O(log n) sends, publishing what precedes it in its bucket', () => {
    const outbox = Array.from({ length: 200 }, (_, i) => ({ bucket: i % 16, id: `r${i}`, bad: i === 133 }));
    const { culprit, published, sends } = isolate(outbox, 200);
    expect(culprit).toEqual([outbox[133]]);
    expect(sends).toBeLessThanOrEqual(2 + 2 * Math.ceil(Math.log2(200)));
    // Nothing of its bucket after it went out; some rows before it did, in order.
    const sameBucket = published.filter((id) => outbox.find((r) => r.id === id)!.bucket === 133 % 16);
    expect(sameBucket).toEqual(sameBucket.map((_, i) => `r${(133 % 16) + 16 * i}`));
    expect(sameBucket.length).toBeLessThan(133 / 16);
  });

  it('finds the bad row wherever it is', () => {
    for (let bad = 0; bad < 40; bad++) {
      const outbox = Array.from({ length: 40 }, (_, i) => ({ bucket: (i * 7) % 5, id: `r${i}`, bad: i === bad }));
      expect(isolate(outbox, 40).culprit).toEqual([outbox[bad]]);
    }
  });
});

describe('Holds', () => {
  const row = (bucket: number, topic: string, position: string) => ({ bucket, topic, position });

  it('retries a held bucket alone with a growing backoff, and lets it go once Kafka took its row', () => {
    const holds = new Holds<ReturnType<typeof row>>();
    const r = row(4, 'orders', '10');
    expect(holds.hold(r, 'refused', 'too large', 0)).toMatchObject({ fresh: true, hold: { failures: 1, until: 1000 } });
    expect(holds.isHeld(4)).toBe(true);
    expect(holds.due(999)).toBeUndefined();
    expect(holds.due(1000)).toBe(4);
    expect(holds.hold(r, 'refused', 'too large', 1000)).toMatchObject({
      fresh: false,
      hold: { failures: 2, until: 3000, since: 0 },
    });
    expect(holds.counts()).toEqual({ refused: 1, 'unknown-topic': 0, 'retrying-too-long': 0 });
    expect(holds.published([r])).toMatchObject([{ row: r, reason: 'refused' }]);
    expect(holds.isHeld(4)).toBe(false);
    expect(holds.counts()).toEqual({ refused: 0, 'unknown-topic': 0, 'retrying-too-long': 0 });
  });

  it('caps the backoff at a minute', () => {
    expect([1, 2, 3, 6, 7, 20].map(holdBackoffMs)).toEqual([1000, 2000, 4000, 32000, 60000, 60000]);
  });

  it('holds back a bucket behind a known missing topic without a send, and tries the topic once for all', () => {
    const holds = new Holds<ReturnType<typeof row>>();
    holds.hold(row(1, 'audit', '5'), 'unknown-topic', 'UNKNOWN_TOPIC_OR_PARTITION', 0);

    // A batch: bucket 2 stops at its row for the missing topic, whatever follows it there; bucket 3 goes.
    const batch = [row(2, 'orders', '6'), row(3, 'orders', '7'), row(2, 'audit', '8'), row(2, 'orders', '9')];
    const { send, held } = holds.screen(batch);
    expect(send).toEqual([row(2, 'orders', '6'), row(3, 'orders', '7')]);
    expect(held).toEqual([{ row: row(2, 'audit', '8'), error: 'UNKNOWN_TOPIC_OR_PARTITION' }]);
    holds.hold(held[0].row, 'unknown-topic', held[0].error, 10);
    expect(holds.counts()['unknown-topic']).toBe(2);

    // One bucket stands for the topic; its failed retry pushes the topic's next try out, for both buckets.
    expect(holds.due(999)).toBeUndefined();
    expect(holds.due(1000)).toBe(1);
    holds.hold(row(1, 'audit', '5'), 'unknown-topic', 'UNKNOWN_TOPIC_OR_PARTITION', 1000);
    expect(holds.due(2999)).toBeUndefined();
    expect(holds.due(3000)).toBe(1);

    // The topic took its row: it exists, and every bucket held for it flows again, its held row first.
    const released = holds.published([row(1, 'audit', '5')]);
    expect(released.map((h) => h.row.bucket).sort()).toEqual([1, 2]);
    expect(holds.screen(batch).send).toEqual(batch);
    expect(holds.due(1e9)).toBeUndefined();
  });

  it('blames the one topic of a failed send that never took a row, and only when there is one', () => {
    const holds = new Holds<ReturnType<typeof row>>();
    const batch = [row(1, 'orders', '1'), row(2, 'audit', '2'), row(1, 'orders', '3')];
    // Nothing was acknowledged yet: either topic may be the missing one.
    expect(holds.blameTopic(batch, 'UNKNOWN_TOPIC_OR_PARTITION', 0)).toBeUndefined();
    holds.published([row(3, 'orders', '0')]);
    expect(holds.blameTopic(batch, 'UNKNOWN_TOPIC_OR_PARTITION', 0)).toBe('audit');
    expect(holds.screen(batch)).toEqual({
      send: [row(1, 'orders', '1'), row(1, 'orders', '3')],
      held: [{ row: row(2, 'audit', '2'), error: 'UNKNOWN_TOPIC_OR_PARTITION' }],
    });
    // Every topic took rows before (one was deleted since): only a narrowing can tell which.
    holds.published([row(2, 'audit', '2')]);
    expect(holds.blameTopic(batch, 'UNKNOWN_TOPIC_OR_PARTITION', 0)).toBeUndefined();
    // A row held back for a missing topic makes it a suspect again.
    holds.hold(row(2, 'audit', '4'), 'unknown-topic', 'UNKNOWN_TOPIC_OR_PARTITION', 0);
    holds.published([row(1, 'orders', '5')]);
    expect(holds.blameTopic([row(2, 'audit', '6'), row(1, 'orders', '7')], 'e', 0)).toBe('audit');
  });

  it('forgets holds on buckets given up, and a missing topic no bucket waits for', () => {
    const holds = new Holds<ReturnType<typeof row>>();
    holds.hold(row(1, 'audit', '5'), 'unknown-topic', 'e', 0);
    holds.hold(row(2, 'orders', '6'), 'retrying-too-long', 'e', 0);
    expect(holds.keepOnly(new Set([2])).map((h) => h.row.bucket)).toEqual([1]);
    expect(holds.due(1000)).toBe(2);
    expect(holds.screen([row(3, 'audit', '7')]).held).toHaveLength(0);
  });

  it('takes a new row at a held bucket as a new hold', () => {
    const holds = new Holds<ReturnType<typeof row>>();
    holds.hold(row(1, 'orders', '5'), 'refused', 'e', 0);
    expect(holds.hold(row(1, 'orders', '9'), 'refused', 'e', 5000)).toMatchObject({
      fresh: true,
      hold: { failures: 1, since: 5000 },
    });
  });
});
