import { recreateTopic, testKafka, waitFor, type ServiceProcess } from '@event-spine/testing';
import { expectReadModelsToEqualTheFold } from './support/read-models';
import { call, metric, Pipeline, token } from './support/pipeline';

interface PartitionView {
  topic: string;
  partition: number;
  offset: number;
  lag: number;
  duplicates: number;
  offsetResets: number;
  sourceGaps: number;
  lastSourceGap: Record<string, string> | null;
}

/**
 * Kafka's offsets are not forever: retention deletes ranges nobody read in time, and a topic deleted and recreated
 * starts over at 0 under the projector's stored positions. Neither may make the read models silently diverge from
 * the event log (the fresh-broker case is in the fault suite, which owns a broker it may replace).
 */
describe('projector: offsets that start over or vanish are reported, and the read models still equal the log', () => {
  let pipeline: Pipeline;
  let commands: ServiceProcess;
  let projector: ServiceProcess;
  let bearer: string;
  const kafka = testKafka();
  const admin = kafka.admin();
  const startProjector = () => pipeline.start('projector', { COMMAND_SERVICE_URL: commands.url });
  const accountTopic = () => pipeline.topics.find((t) => t.endsWith('account.events'))!;

  beforeAll(async () => {
    pipeline = await Pipeline.create();
    commands = await pipeline.start('command-service');
    await pipeline.start('outbox-relay');
    projector = await startProjector();
    bearer = await token();
    await admin.connect();
  }, 120_000);
  afterAll(async () => {
    await admin.disconnect();
    await pipeline.stop();
  });

  async function openAccounts(n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const opened = await call(commands.url, 'POST', '/v1/accounts', bearer, { ownerName: `o${i}`, currency: 'EUR' });
      expect(opened.status).toBe(201);
      ids.push(String(opened.body.accountId));
    }
    return ids;
  }
  async function deposit(accounts: string[], amount: number): Promise<void> {
    for (const id of accounts) {
      expect((await call(commands.url, 'POST', `/v1/accounts/${id}/deposits`, bearer, { amount })).status).toBe(201);
    }
  }
  const partitions = async (): Promise<PartitionView[]> => {
    const { body } = await call(projector.url, 'GET', '/admin/projections', bearer);
    return (body.projections as { partitions: PartitionView[] }[])[0].partitions;
  };
  /** Waits until the account topic holds every account event of the log (its partitions still start at 0). */
  const published = (topic: string) =>
    waitFor(
      async () => {
        const { rows } = await pipeline.commandSchema.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM event_log WHERE subject_type = 'account'`,
        );
        const onKafka = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
        return onKafka >= rows[0].n;
      },
      { timeoutMs: 30000, message: 'every account event published' },
    );

  it('repairs subjects from the event log when retention deleted offsets the projector never read', async () => {
    const accounts = await openAccounts(12);
    await deposit(accounts, 10);
    await expectReadModelsToEqualTheFold(pipeline);
    await projector.stop('SIGKILL');
    const { rows: positions } = await pipeline.projectorSchema.pool.query<{ partition: number; next_offset: string }>(
      `SELECT partition, next_offset FROM projector_offsets WHERE topic = $1`,
      [accountTopic()],
    );
    const storedAt = new Map(positions.map((r) => [r.partition, Number(r.next_offset)]));

    await deposit(accounts, 5);
    const topic = accountTopic();
    await published(topic);
    const before = await admin.fetchTopicOffsets(topic);
    // Retention, as the broker applies it: everything written while the projector was away is gone.
    await admin.deleteTopicRecords({
      topic,
      partitions: before.map((p) => ({ partition: p.partition, offset: p.high })),
    });
    await deposit(accounts, 1);

    projector = await startProjector();
    await expectReadModelsToEqualTheFold(pipeline);
    const seen = (await partitions()).filter((p) => p.topic === topic);
    const stored = new Map(seen.map((p) => [p.partition, p]));
    for (const p of before) {
      const view = stored.get(p.partition)!;
      // Partitions that got events while the projector was away lost them to retention: one gap each, named.
      const lost = Number(p.high) > (storedAt.get(p.partition) ?? 0);
      expect({ partition: p.partition, sourceGaps: view.sourceGaps }).toEqual({
        partition: p.partition,
        sourceGaps: lost ? 1 : 0,
      });
      if (lost) expect(view.lastSourceGap).toMatchObject({ kind: 'source-gap', logStart: p.high });
    }
    expect(seen.reduce((n, p) => n + p.sourceGaps, 0)).toBeGreaterThan(0);
    expect(await metric(projector.url, 'spine_projector_gaps_total')).toBeGreaterThan(0);
    expect(projector.logs).toContain('gap in the source');
  }, 120_000);

  it('starts a recreated topic over from its beginning while running, reporting one reset per partition', async () => {
    const earlier = await openAccounts(3);
    await deposit(earlier, 7);
    await expectReadModelsToEqualTheFold(pipeline);
    const topic = accountTopic();
    const storedBefore = (await partitions()).filter((p) => p.topic === topic);
    // A partition that never held an event has nothing to reset.
    const resets = (p: PartitionView) => (p.offset > 0 ? 1 : 0);
    expect(storedBefore.some((p) => p.offset > 0)).toBe(true);

    await recreateTopic(admin, topic, 3);
    // Enough new subjects to land on every partition of the new topic, each far below the stored positions.
    const later = await openAccounts(24);
    await deposit(later, 3);

    await expectReadModelsToEqualTheFold(pipeline, 60000);
    await waitFor(
      async () => (await partitions()).filter((p) => p.topic === topic).every((p) => p.offsetResets === 1),
      {
        timeoutMs: 30000,
        message: 'one reset reported per partition',
      },
    );
    const after = (await partitions()).filter((p) => p.topic === topic);
    expect(after.map((p) => ({ partition: p.partition, lag: p.lag, offsetResets: p.offsetResets }))).toEqual(
      storedBefore.map((p) => ({ partition: p.partition, lag: 0, offsetResets: resets(p) })),
    );
    expect(projector.logs).toContain('offset reset');
  }, 180_000);
});
