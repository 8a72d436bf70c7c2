import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, sleep, waitFor, type ServiceProcess } from '@event-spine/testing';
import { call, Pipeline, PrivateBroker, token } from '../support/pipeline';
import { alertNames, ensurePrometheus, PrometheusServer, readRules, tuneRules, type AlertTuning } from './prometheus';

/**
 * The shipped alerting rules (ops/prometheus/rules/spine.rules.yml) in a real Prometheus (Debian's package, installed
 * by scripts/lib/ensure-prometheus) scraping a real command service and relay every second. Production `for:`
 * durations and thresholds would take minutes; the test copy of the rules shortens only those of the alerts under
 * test (tuneRules: the `for:` line and one threshold literal; the expressions are otherwise the shipped ones).
 *
 * 1. Healthy traffic: none of them is pending or firing.
 * 2. Kafka stops (the suite's own broker): the relay stays up and keeps exporting its backlog gauges, commands keep
 *    succeeding into the outbox: SpineOutboxOldestUnpublishedTooOld and SpineOutboxBacklogGrowing fire; the relay
 *    alerts do not (it is up and owns its buckets).
 * 3. The relay is killed (-9): its gauges vanish with it, so the backlog alerts resolve, and SpineRelayInstanceLost
 *    (up == 0) and SpineRelayBucketsUnowned (no relay owns the 64 buckets) fire.
 */
const TUNINGS: Record<string, AlertTuning> = {
  // Production: older than 60 s, for 2m.
  SpineOutboxOldestUnpublishedTooOld: { for: '2s', threshold: { from: '> 60', to: '> 3' } },
  // Production: more than 1000 rows and growing, for 10m. Not lower than 100: while rows flow, the gauge also counts
  // the batch Kafka took last (its cursor moves with the next batch's statement), tens of rows under this load.
  SpineOutboxBacklogGrowing: { for: '3s', threshold: { from: '> 1000', to: '> 100' } },
  // Production: for 1m.
  SpineRelayInstanceLost: { for: '2s' },
  // Production: for 2m; the threshold is the bucket count (64) and stays.
  SpineRelayBucketsUnowned: { for: '2s' },
};
const UNDER_TEST = Object.keys(TUNINGS);
const RELAY_SERVICE = 'outbox-relay';

/** Keeps opening accounts until stopped (one request at a time per worker); counts what succeeded. */
function steadyCommands(base: string, bearer: string, workers = 3) {
  let running = true;
  let ok = 0;
  let failed = 0;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; running; i++) {
      const res = await call(base, 'POST', '/v1/accounts', bearer, { ownerName: `Ops ${w}-${i}`, currency: 'EUR' });
      if (res.status === 201) ok++;
      else failed++;
    }
  });
  return {
    get ok() {
      return ok;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      return { ok, failed };
    },
  };
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
const listening = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });

/**
 * A port for the suite's own broker (it takes the port and the next one) where nothing listens yet: scripts/infra
 * would take anything listening there for a broker of its own.
 */
async function brokerPort(): Promise<number> {
  for (let port = 19592 + Number(process.env.JEST_WORKER_ID ?? 0) * 10; port < 20000; port += 40) {
    if (!(await listening(port)) && !(await listening(port + 1))) return port;
  }
  throw new Error('no free port pair for the suite broker');
}

describe('alerting rules in a real Prometheus', () => {
  let dir: string;
  let broker: PrivateBroker | undefined;
  let pipeline: Pipeline | undefined;
  let prometheus: PrometheusServer | undefined;
  let commands: ServiceProcess;
  let relay: ServiceProcess;
  let load: ReturnType<typeof steadyCommands> | undefined;

  const ours = async () => (await prometheus!.alerts()).filter((a) => UNDER_TEST.includes(a.labels.alertname));

  beforeAll(async () => {
    const version = ensurePrometheus();
    process.stderr.write(version);
    dir = mkdtempSync(join(tmpdir(), 'spine-ops-'));
    broker = PrivateBroker.start(await brokerPort());
    pipeline = await Pipeline.create(broker.brokers);
    commands = await pipeline.start('command-service');
    relay = await pipeline.start('outbox-relay', { RELAY_REBALANCE_MS: '200' });

    const rulesFile = join(dir, 'spine.rules.yml');
    writeFileSync(rulesFile, tuneRules(readRules(), TUNINGS));
    execFileSync('promtool', ['check', 'rules', rulesFile], { stdio: 'pipe' });
    prometheus = await PrometheusServer.start(dir, await freePort(), {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: [rulesFile],
      scrape_configs: [
        { job_name: 'command-service', static_configs: [{ targets: [`127.0.0.1:${commands.port}`] }] },
        { job_name: 'outbox-relay', static_configs: [{ targets: [`127.0.0.1:${relay.port}`] }] },
      ],
    });
  }, 150000);

  afterAll(async () => {
    await load?.stop().catch(() => undefined);
    await prometheus?.stop();
    await pipeline?.stop();
    broker?.wipe();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60000);

  it('loads every shipped alerting rule, with only the tuned for: and thresholds changed', async () => {
    const loaded = await prometheus!.alertingRules();
    // The API lists groups by name, not in file order.
    expect(loaded.map((r) => r.name).sort()).toEqual(alertNames(readRules()).sort());
    const byName = new Map(loaded.map((r) => [r.name, r]));
    expect(byName.get('SpineOutboxOldestUnpublishedTooOld')).toMatchObject({
      query: 'max by (service) (spine_relay_oldest_unpublished_age_seconds) > 3',
      duration: 2,
    });
    expect(byName.get('SpineRelayInstanceLost')).toMatchObject({ query: 'up{job="outbox-relay"} == 0', duration: 2 });
    // Untouched: production values.
    expect(byName.get('SpineProjectionLagHigh')?.duration).toBe(600);
  });

  it('fires the backlog alerts while Kafka is down and the relay alerts when the relay dies, and not before', async () => {
    const started = Date.now();
    const bearer = await token();

    // 1. Healthy: both targets scraped, every bucket owned, traffic flowing; nothing of ours pending or firing.
    await waitFor(
      async () =>
        (await prometheus!.query('up == 1')).length === 2 &&
        Number((await prometheus!.query('sum(spine_relay_buckets_owned)'))[0]?.value[1]) === 64,
      { timeoutMs: 30000, intervalMs: 500, message: 'both targets up and the 64 buckets owned' },
    );
    load = steadyCommands(commands.url, bearer);
    await waitFor(() => load!.ok >= 30, { timeoutMs: 30000, message: 'commands succeeding' });
    for (let i = 0; i < 6; i++) {
      await sleep(1000); // one evaluation each
      expect(await ours()).toEqual([]);
    }
    // The recording rules see the same traffic.
    await waitFor(
      async () =>
        Number(
          (await prometheus!.query('service:spine_commands:rate5m{service="command-service"}'))[0]?.value[1] ?? 0,
        ) > 0,
      { timeoutMs: 15000, intervalMs: 500, message: 'the recorded command rate' },
    );

    // 2. Kafka away: the relay is up but cannot publish; the backlog grows and ages.
    broker!.down();
    const oldest = await prometheus!.waitFiring('SpineOutboxOldestUnpublishedTooOld');
    expect(oldest.labels).toMatchObject({ service: RELAY_SERVICE, severity: 'critical' });
    expect(oldest.annotations.runbook).toMatch(/health\/ready/);
    const growing = await prometheus!.waitFiring('SpineOutboxBacklogGrowing');
    expect(growing.labels).toMatchObject({ service: RELAY_SERVICE, severity: 'warning' });
    expect(Number(growing.value)).toBeGreaterThan(100);
    const relayAlerts = (await ours()).filter((a) => /^SpineRelay/.test(a.labels.alertname));
    expect(relayAlerts).toEqual([]);
    const sent = await load.stop();
    load = undefined;
    expect(sent.failed).toBe(0);
    process.stderr.write(
      `[ops alerts] backlog alerts firing after ${Math.round((Date.now() - started) / 1000)} s (${sent.ok} commands)\n`,
    );

    // 3. The relay dies: its backlog gauges go with it; up == 0 and the unowned buckets tell.
    expect((await relay.stop('SIGKILL')).signal).toBe('SIGKILL');
    const lost = await prometheus!.waitFiring('SpineRelayInstanceLost');
    expect(lost.labels).toMatchObject({
      job: 'outbox-relay',
      instance: `127.0.0.1:${relay.port}`,
      severity: 'warning',
    });
    const unowned = await prometheus!.waitFiring('SpineRelayBucketsUnowned');
    expect(unowned.labels).toMatchObject({ service: RELAY_SERVICE, severity: 'critical' });
    expect(Number(unowned.value)).toBe(0);
    await waitFor(async () => !(await ours()).some((a) => a.labels.alertname.startsWith('SpineOutbox')), {
      timeoutMs: 15000,
      intervalMs: 500,
      message: 'the backlog alerts to resolve without their gauges',
    });
    process.stderr.write(`[ops alerts] relay alerts firing after ${Math.round((Date.now() - started) / 1000)} s\n`);
  }, 180000);

  it('answers every query of the Grafana dashboard', async () => {
    const dashboard = JSON.parse(
      readFileSync(resolve(__dirname, '../../ops/grafana/dashboards/event-spine.json'), 'utf8'),
    ) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(20);
    for (const { panel, expr } of exprs) {
      const concrete = expr.replace(/\$__rate_interval|\$__range/g, '1m').replace(/\$service/g, '.*');
      await prometheus!.query(concrete).catch((error: unknown) => {
        throw new Error(`dashboard panel "${panel}": ${String(error)}`);
      });
    }
    // The relay's and command service's panels have data (the projector is not scraped here).
    const data = async (expr: string) => (await prometheus!.query(expr)).length > 0;
    expect(await data('sum by (service) (increase(spine_commands_total[10m]))')).toBe(true);
    expect(await data('max_over_time(spine_relay_backlog[10m])')).toBe(true);
  });
});
