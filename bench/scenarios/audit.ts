import { chainHash, GENESIS_HASH } from '@event-spine/event-log';
import { newPersonalKey, openPayload, sealPayload, type EventEnvelope } from '@event-spine/events';
import { ledgerCatalog } from '@ledger/contract';
import { benchConfig } from '../lib/config';
import { benchToken, Deployment, schemaPool } from '../lib/deployment';
import { EventStream } from '../lib/events';
import { closedLoop, depositInto, HttpClient, openAccount } from '../lib/http-load';
import { UsageSampler } from '../lib/proc';
import type { Results, ScenarioResult } from '../lib/results';
import { round } from '../lib/stats';

const SCENARIO = '9. Audit and personal-data cost';

/** CPU microseconds per call of `fn`, over enough calls to swamp the timer (after a warm-up). */
function microsPerCall(calls: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(2000, calls); i++) fn(i);
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) fn(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

/** Wall microseconds per statement, one after the other on one connection (a round trip each). */
async function roundTripMicros(run: (i: number) => Promise<unknown>, calls: number): Promise<number> {
  for (let i = 0; i < Math.min(200, calls); i++) await run(-1 - i);
  const start = performance.now();
  for (let i = 0; i < calls; i++) await run(i);
  return ((performance.now() - start) * 1000) / calls;
}

/**
 * What tamper evidence and crypto-shredding add to a command: per event, the chain hash (RFC 8785 JSON of the
 * envelope and a SHA-256); for an event with personal fields, sealing (AES-256-GCM) and the key lookup (one upsert
 * statement on `data_subject_keys`, in the command's transaction); per read, opening. And the command service's rate
 * and CPU for a command with a personal field (opening an account) against one without (a deposit), same closed loop.
 */
export async function auditCost(results: Results): Promise<ScenarioResult> {
  const started = performance.now();
  const stream = new EventStream('audit', 2, 2);
  const deposit = stream.envelope(1);
  const opened: EventEnvelope = stream.envelope(0);
  const key = newPersonalKey();
  const personal = ledgerCatalog.personalDataOf('AccountOpened')!;
  const sealed = sealPayload(opened, personal, opened.subjectId, key);
  const keys = new Map([[opened.subjectId, key]]);
  const calls = 20_000;
  const micro = {
    hashMicros: round(
      microsPerCall(calls, () => chainHash(GENESIS_HASH, deposit)),
      2,
    ),
    sealMicros: round(
      microsPerCall(calls, () => sealPayload(opened, personal, opened.subjectId, key)),
      2,
    ),
    openMicros: round(
      microsPerCall(calls, () => openPayload(sealed, keys)),
      2,
    ),
  };

  const deployment = await Deployment.create('audit');
  try {
    const service = await deployment.start('command-service');
    const pool = schemaPool(deployment.commandSchema, 1);
    const statements = { keyUpsertMicros: 0, selectOneMicros: 0 };
    try {
      const n = Math.max(500, Math.round(3000 * benchConfig.scale));
      statements.selectOneMicros = round(await roundTripMicros(() => pool.query('SELECT 1'), n), 1);
      statements.keyUpsertMicros = round(
        await roundTripMicros(
          (i) =>
            pool.query(
              `INSERT INTO data_subject_keys (tenant_id, data_subject_id, key) VALUES ('bench', $1, $2)
               ON CONFLICT (tenant_id, data_subject_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id RETURNING key`,
              [`ds-${i}`, key],
            ),
          n,
        ),
        1,
      );
    } finally {
      await pool.end();
    }

    const { concurrencies, warmupMs, levelMs } = benchConfig.commands;
    const concurrency = Math.max(...concurrencies);
    const client = new HttpClient(service.url, await benchToken(), concurrency);
    const measure = async (send: Parameters<typeof closedLoop>[4]) => {
      await closedLoop(client, concurrency, warmupMs, () => undefined, send);
      const usage = new UsageSampler([{ name: 'command-service', pid: service.child.pid! }]);
      const o = await closedLoop(client, concurrency, levelMs, () => undefined, send);
      const cores = usage.stop().processes[0].cores;
      return { rate: round(o.rate), cpuMsPerCommand: round((cores * 1000) / o.rate, 3), failed: o.failed };
    };
    try {
      const opens = await measure(openAccount);
      const accounts: string[] = [];
      for (let i = 0; i < concurrency * 4; i++) accounts.push((await openAccount(client)).accountId);
      const deposits = await measure(depositInto(accounts));
      const perCommand = { ...micro, ...statements, opens, deposits };
      return {
        id: 'audit',
        title: SCENARIO,
        rows: [
          results.infoRow(
            SCENARIO,
            'chain hash per event (RFC 8785 JSON + SHA-256), CPU',
            micro.hashMicros,
            'µs',
            `${round((micro.hashMicros / 1000 / deposits.cpuMsPerCommand) * 100, 2)} % of a deposit's command-service CPU (${deposits.cpuMsPerCommand} ms)`,
          ),
          results.infoRow(
            SCENARIO,
            'sealing one personal field (AES-256-GCM), CPU',
            micro.sealMicros,
            'µs',
            `opening it on a read: ${micro.openMicros} µs`,
          ),
          results.infoRow(
            SCENARIO,
            'data-subject key upsert, one statement round trip',
            statements.keyUpsertMicros,
            'µs',
            `SELECT 1 round trip: ${statements.selectOneMicros} µs; one more statement in the transaction of a command with personal data`,
          ),
          results.infoRow(
            SCENARIO,
            'HTTP commands/s with a personal field (open account: sealed name, key upsert)',
            opens.rate,
            'cmd/s',
            `${opens.cpuMsPerCommand} CPU-ms per command in the command service`,
          ),
          results.infoRow(
            SCENARIO,
            'HTTP commands/s without personal data (deposit)',
            deposits.rate,
            'cmd/s',
            `${deposits.cpuMsPerCommand} CPU-ms per command in the command service`,
          ),
        ],
        details: perCommand,
        wallSeconds: (performance.now() - started) / 1000,
      };
    } finally {
      client.close();
    }
  } finally {
    await deployment.destroy();
  }
}
