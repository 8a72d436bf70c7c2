import {
  KAFKA_CLIENTS,
  KAFKA_COMPRESSIONS,
  createMessageConsumer,
  createMessageProducer,
  type ConsumerHandlers,
  type IncomingBatch,
  type KafkaClientName,
  type MessageConsumer,
  type MessageProducer,
} from '@event-spine/kafka';
import { murmur2 } from '@platformatic/kafka';
import { recreateTopic, testKafka, testKafkaBrokers, uniqueName, waitFor } from '@event-spine/testing';

interface Seen {
  member: string;
  partition: number;
  offset: string;
  highWatermark: string;
}

/**
 * The consumer side of the Kafka client port, both adapters against the real broker: where a partition starts is the
 * caller's (`startAt`), where it resumes is what `eachBatch` returns, a group shares partitions among its members
 * and hands them over when one leaves, and a position outside the partition reads from its log start.
 */
describe.each(KAFKA_CLIENTS)('Kafka consumer port: %s adapter', (client: KafkaClientName) => {
  const admin = testKafka().admin();
  const topic = uniqueName(`consumers-${client}`);
  let producer: MessageProducer;
  const running: MessageConsumer[] = [];

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    producer = createMessageProducer('platformatic', testKafka(), {
      brokers: testKafkaBrokers(),
      clientId: uniqueName('producer'),
    });
    await producer.connect();
    // Ten messages on each partition: keys picked by the partition the Java client's hash gives them.
    const keys = new Map<number, string[]>([0, 1, 2].map((p) => [p, []]));
    for (let i = 0; [...keys.values()].some((k) => k.length < 10); i++) {
      const owned = keys.get((murmur2(Buffer.from(`k${i}`)) & 0x7fffffff) % 3)!;
      if (owned.length < 10) owned.push(`k${i}`);
    }
    const all = [...keys.values()].flat();
    await producer.send(all.map((key, i) => ({ topic, key, value: JSON.stringify({ i }), headers: { n: String(i) } })));
  });

  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop().catch(() => undefined);
  });

  afterAll(async () => {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  function consumer(groupId: string): MessageConsumer {
    const c = createMessageConsumer(
      client,
      testKafka(),
      { brokers: testKafkaBrokers(), clientId: uniqueName(client) },
      { groupId, topics: [topic], sessionTimeoutMs: 6000, maxWaitMs: 50, partitionsConcurrently: 2 },
    );
    running.push(c);
    return c;
  }

  function recording(member: string, seen: Seen[], startAt: ConsumerHandlers['startAt']): ConsumerHandlers {
    return {
      startAt,
      eachBatch: async (batch: IncomingBatch) => {
        for (const m of batch.messages)
          seen.push({ member, partition: batch.partition, offset: m.offset, highWatermark: batch.highWatermark });
        return (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n).toString();
      },
    };
  }

  it('starts each partition where startAt says (log start when undefined or beyond the end), in order', async () => {
    const seen: Seen[] = [];
    const starts = new Map([
      [0, '4'],
      [1, undefined],
      [2, '1000'],
    ]);
    await consumer(uniqueName('group')).start(recording('a', seen, async (_t, p) => starts.get(p)));
    await waitFor(() => seen.length >= 6 + 10 + 10, { message: `26 messages (have ${seen.length})` });
    await new Promise((r) => setTimeout(r, 300));
    const offsets = (p: number) => seen.filter((s) => s.partition === p).map((s) => Number(s.offset));
    expect(offsets(0)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(offsets(1)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Beyond the end: from the log start, and the batch says where the partition ends, so the caller can tell.
    expect(offsets(2)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(seen.filter((s) => s.partition === 2).map((s) => s.highWatermark))).toEqual(new Set(['10']));
  });

  it('resumes where eachBatch says: an earlier offset is read again, and each message header arrives as text', async () => {
    const seen: { offset: string; n: string }[] = [];
    let rewound = false;
    await consumer(uniqueName('group')).start({
      startAt: async (_t, p) => (p === 1 ? '0' : '10'),
      eachBatch: async (batch) => {
        for (const m of batch.messages) seen.push({ offset: m.offset, n: m.headers.n });
        const last = BigInt(batch.messages[batch.messages.length - 1].offset);
        if (!rewound && last >= 5n) {
          rewound = true;
          return '3';
        }
        return (last + 1n).toString();
      },
    });
    await waitFor(() => seen.filter((s) => s.offset === '9').length > 0 && rewound, { message: 'partition 1 read' });
    await new Promise((r) => setTimeout(r, 300));
    const offsets = seen.map((s) => Number(s.offset));
    const rewindAt = offsets.findIndex((o, i) => i > 0 && o < offsets[i - 1]);
    expect(offsets[rewindAt]).toBe(3);
    expect(offsets.slice(rewindAt)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(seen.every((s) => /^\d+$/.test(s.n))).toBe(true);
  });

  it('reads batches each producer adapter compressed with each codec: the same keys, values and headers', async () => {
    const packed = uniqueName(`compressed-${client}`);
    await admin.createTopics({ topics: [{ topic: packed, numPartitions: 1 }], waitForLeaders: true });
    const sent: { key: string; value: string; codec: string }[] = [];
    try {
      for (const producerClient of KAFKA_CLIENTS)
        for (const compression of KAFKA_COMPRESSIONS) {
          const p = createMessageProducer(producerClient, testKafka(), {
            brokers: testKafkaBrokers(),
            clientId: uniqueName('compressing'),
            compression: { codec: compression, fromMessages: 1 },
          });
          await p.connect();
          const codec = `${producerClient}/${compression}`;
          const batch = Array.from({ length: 20 }, (_, i) => ({
            key: `${codec}:${i}`,
            // Repetitive, so every codec actually shrinks it.
            value: JSON.stringify({ codec, i, text: 'x'.repeat(200) }),
            codec,
          }));
          await p.send(batch.map((m) => ({ topic: packed, key: m.key, value: m.value, headers: { codec } })));
          await p.disconnect();
          sent.push(...batch);
        }
      const got: { key: string | null; value: string | null; codec: string }[] = [];
      const c = createMessageConsumer(
        client,
        testKafka(),
        { brokers: testKafkaBrokers(), clientId: uniqueName(client) },
        {
          groupId: uniqueName('group'),
          topics: [packed],
          sessionTimeoutMs: 6000,
          maxWaitMs: 50,
          partitionsConcurrently: 1,
        },
      );
      running.push(c);
      await c.start({
        startAt: async () => '0',
        eachBatch: async (batch) => {
          for (const m of batch.messages) got.push({ key: m.key, value: m.value, codec: m.headers.codec });
          return (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n).toString();
        },
      });
      await waitFor(() => got.length >= sent.length, { message: `${sent.length} messages (have ${got.length})` });
      expect(got).toEqual(sent);
    } finally {
      await admin.deleteTopics({ topics: [packed] }).catch(() => undefined);
    }
  });

  it('shares the partitions between members and hands them over, from startAt, when one stops', async () => {
    const groupId = uniqueName('group');
    const seen: Seen[] = [];
    const asked: { member: string; partition: number }[] = [];
    // Every partition starts at its end, as if all were applied: only messages sent from now on arrive.
    const atEnd = (member: string) => async (_t: string, partition: number) => {
      asked.push({ member, partition });
      return '10';
    };
    const a = consumer(groupId);
    await a.start(recording('a', seen, atEnd('a')));
    await waitFor(() => new Set(asked.map((x) => x.partition)).size === 3, { message: 'a assigned every partition' });
    const b = consumer(groupId);
    await b.start(recording('b', seen, atEnd('b')));
    await waitFor(
      () => {
        const latest = new Map<number, string>();
        for (const x of asked) latest.set(x.partition, x.member);
        return new Set(latest.values()).size === 2;
      },
      { timeoutMs: 30_000, message: 'partitions shared by a and b' },
    );
    await b.stop();
    running.splice(running.indexOf(b), 1);
    const askedBefore = asked.length;
    await waitFor(
      () =>
        new Set(
          asked
            .slice(askedBefore)
            .filter((x) => x.member === 'a')
            .map((x) => x.partition),
        ).size === 3,
      {
        timeoutMs: 30_000,
        message: 'a given every partition again',
      },
    );
    await producer.send([0, 1, 2, 3, 4, 5].map((i) => ({ topic, key: `k${i}`, value: '{}', headers: {} })));
    await waitFor(() => seen.length >= 6, { message: `6 new messages (have ${seen.length})` });
    expect(seen.every((s) => s.member === 'a' && Number(s.offset) >= 10)).toBe(true);
  });

  it('tells a batch still being applied when its partition moved on that it is no longer current', async () => {
    const groupId = uniqueName('group');
    // What happened, in order: a member asked where a partition starts, or a's batch finished (and what it was told).
    const log: { member: string; partition: number; event: 'asked' | 'done'; current?: boolean }[] = [];
    const seen: Seen[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const blocked = new Set<number>();
    const asking = (member: string) => async (_t: string, partition: number) => {
      log.push({ member, partition, event: 'asked' });
      return '0'; // the stored position: a never got to store one
    };
    const a = consumer(groupId);
    await a.start({
      startAt: asking('a'),
      eachBatch: async (batch, context) => {
        // a's first batches hang until b has been given partitions (or a few seconds, under a session timeout).
        if (!blocked.has(batch.partition) && log.every((e) => e.member === 'a')) {
          blocked.add(batch.partition);
          await released;
          log.push({ member: 'a', partition: batch.partition, event: 'done', current: context.isCurrent() });
        }
        return (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n).toString();
      },
    });
    // A first fetch may bring one partition or several; up to two batches are applied at once.
    await waitFor(() => blocked.size > 0, { message: 'a applying a batch' });
    const b = consumer(groupId);
    await b.start(recording('b', seen, asking('b')));
    const bFirst = await waitFor(() => log.some((e) => e.member === 'b'), { timeoutMs: 4000 }).then(
      () => true,
      () => false,
    );
    const hung = blocked.size;
    release();
    await waitFor(() => log.filter((e) => e.event === 'done').length >= hung, { message: "a's batches done" });
    await waitFor(() => seen.length > 0, { timeoutMs: 30_000, message: 'b reading' });

    // A batch told it is current finished before any other member was asked where its partition starts.
    for (const [i, e] of log.entries())
      if (e.event === 'done' && e.current)
        expect(log.slice(0, i).filter((x) => x.member === 'b' && x.partition === e.partition)).toEqual([]);
    // b was given partitions while a's batches hung: all of them belonged to a group generation gone by then.
    if (bFirst)
      expect(log.filter((e) => e.event === 'done').map((e) => e.current)).toEqual(
        Array.from({ length: hung }, () => false),
      );
    // b reads each of its partitions from where the store says, not from where a's late batches ended.
    const bPartitions = new Set(seen.map((x) => x.partition));
    for (const partition of bPartitions) expect(seen.find((x) => x.partition === partition)?.offset).toBe('0');
  });

  it('commits offsets for the group, as lag tools read them', async () => {
    const groupId = uniqueName('group');
    const c = consumer(groupId);
    const seen: Seen[] = [];
    await c.start(recording('a', seen, async () => '0'));
    await waitFor(() => seen.length > 0, { message: 'a first batch' });
    await c.commit([{ topic, partition: 1, offset: '7' }]);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed.partitions.find((p) => p.partition === 1)?.offset).toBe('7');
  });
});

/**
 * Only `@platformatic/kafka` shows topic ids: a topic deleted and created again is told to `startAt` as recreated, and
 * none of its messages is read at a position stored for the old topic, however far the new one has grown by then.
 */
describe('Kafka consumer port: platformatic adapter and a recreated topic', () => {
  const admin = testKafka().admin();
  const topic = uniqueName('consumers-recreated');
  let producer: MessageProducer;
  let consumer: MessageConsumer | undefined;

  beforeAll(async () => {
    await admin.connect();
    producer = createMessageProducer('platformatic', testKafka(), {
      brokers: testKafkaBrokers(),
      clientId: uniqueName('producer'),
    });
  });

  afterAll(async () => {
    await consumer?.stop().catch(() => undefined);
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  const fill = (n: number) =>
    producer.send(Array.from({ length: n }, (_, i) => ({ topic, key: `k${i}`, value: '{}', headers: {} })));

  it('starts its partitions again, told so, and reads the new topic from its start', async () => {
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await fill(20);
    const asked: { partition: number; reason: string }[] = [];
    const seen: { partition: number; offset: string }[] = [];
    consumer = createMessageConsumer(
      'platformatic',
      testKafka(),
      { brokers: testKafkaBrokers(), clientId: uniqueName('platformatic') },
      {
        groupId: uniqueName('group'),
        topics: [topic],
        sessionTimeoutMs: 6000,
        maxWaitMs: 50,
        partitionsConcurrently: 2,
      },
    );
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
    await consumer.start({
      startAt: async (_t, partition, reason) => {
        asked.push({ partition, reason });
        return reason === 'recreated' ? '0' : ends.get(partition);
      },
      eachBatch: async (batch) => {
        for (const m of batch.messages) seen.push({ partition: batch.partition, offset: m.offset });
        return (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n).toString();
      },
    });
    await waitFor(() => asked.length === 2, { message: 'both partitions started' });

    await recreateTopic(admin, topic, 2);
    // More than the old partitions held: read at the old positions, the first messages would be skipped.
    await fill(60);
    const newEnds = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
    await waitFor(() => seen.length >= 60, { timeoutMs: 30_000, message: `60 messages (have ${seen.length})` });
    expect(
      asked
        .filter((a) => a.reason === 'recreated')
        .map((a) => a.partition)
        .sort(),
    ).toEqual([0, 1]);
    for (const [partition, end] of newEnds) {
      expect(seen.filter((s) => s.partition === partition).map((s) => Number(s.offset))).toEqual(
        Array.from({ length: end }, (_, i) => i),
      );
    }
  }, 60_000);
});
