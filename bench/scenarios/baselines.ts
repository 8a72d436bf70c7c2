import { execFile, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { kafkaHeaders, serializeEnvelope } from '@event-spine/events';
import { benchConfig } from '../lib/config';
import { databaseUrl, Deployment } from '../lib/deployment';
import { EventStream } from '../lib/events';
import { closedLoop, HttpClient } from '../lib/http-load';
import { UsageSampler } from '../lib/proc';
import type { Results, ScenarioResult } from '../lib/results';
import { round } from '../lib/stats';

const run = promisify(execFile);

const T = benchConfig.tenantId;

/**
 * B_pg: the raw PostgreSQL transaction a command boils down to, run by pgbench (C, prepared statements, no
 * application in between): BEGIN; the five INSERTs an "open account" command with an Idempotency-Key writes
 * (subject_state, event_log, outbox, idempotency_keys, and data_subject_keys for the holder's sealed name) into
 * tables made by the command service's own migrations,
 * with values of the same sizes; COMMIT. synchronous_commit as the server has it. Peak over the client counts.
 */
const RAW_TX = `
BEGIN;
INSERT INTO subject_state (tenant_id, subject_type, subject_id, sequence, state, updated_at)
  VALUES ('${T}', 'account', gen_random_uuid()::text, 1, :state, now());
INSERT INTO event_log (id, tenant_id, space_id, event_type, event_schema_version, subject_type, subject_id, actor_id,
    actor_type, action_invocation_id, payload, sequence, occurred_at, recorded_at, correlation_id, causation_id)
  VALUES (gen_random_uuid(), '${T}', 'space-1', 'AccountOpened', 2, 'account', gen_random_uuid()::text,
    'bench-user', 'user', gen_random_uuid(), :payload, 1, now(), now(), :corr, :corr);
INSERT INTO outbox (event_id, topic, message_key, headers, value)
  VALUES (gen_random_uuid(), :topic, '${T}:' || gen_random_uuid()::text, :headers, :value);
INSERT INTO idempotency_keys (tenant_id, key, action_id, request_hash, status_code, body)
  VALUES ('${T}', gen_random_uuid()::text, 'ledger.open-account', :hash, 201, :body);
INSERT INTO data_subject_keys (tenant_id, data_subject_id, key)
  VALUES ('${T}', gen_random_uuid()::text, decode(md5(random()::text) || md5(random()::text), 'hex'));
END;
`;

/**
 * Context, not a baseline: the round trips the command executor really makes for that command, in pgbench: BEGIN,
 * the subject's advisory lock, the state and Idempotency-Key reads and the data subject's key (FOR SHARE) in one (a
 * compound statement); the guarded writes, a new key among them, in one statement with COMMIT. Simple protocol: the
 * executor's reads are unnamed, so parsed and planned each time as here (its write is prepared). Between B_pg and the
 * HTTP rate, it shows what the statements cost and what the service.
 */
// pgbench takes ":name" for a variable even inside a string literal, and in simple mode writes its value as is: no
// colon may precede a letter in the literals, and the values hold no single quote.
const EXECUTOR_TX = `
\\set r random(1, 1000000000000000)
BEGIN \\; SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(ARRAY['["${T}","account","acc-' || :r::text || '"]']) AS k \\;
  SELECT s.subject_type, s.subject_id, s.sequence, s.state, s.head_hash FROM subject_state s
  JOIN unnest(ARRAY['account'], ARRAY['acc-' || :r::text]) AS x(subject_type, subject_id) USING (subject_type, subject_id)
  WHERE s.tenant_id = '${T}' \\;
  SELECT request_hash, status_code, body FROM idempotency_keys WHERE tenant_id = '${T}' AND key = 'open-' || :r::text \\;
  SELECT data_subject_id, key FROM data_subject_keys WHERE tenant_id = '${T}' AND data_subject_id = ANY(ARRAY['acc-' || :r::text])
  ORDER BY data_subject_id FOR SHARE;
WITH s0 AS (INSERT INTO subject_state (tenant_id, subject_type, subject_id, sequence, state, updated_at, head_hash)
    VALUES ('${T}', 'account', 'acc-' || :r::text, 1, ':state', now(), sha256('x'::bytea)) ON CONFLICT DO NOTHING RETURNING 1),
  sk AS (INSERT INTO data_subject_keys (tenant_id, data_subject_id, key)
    VALUES ('${T}', 'acc-' || :r::text, decode(md5(random()::text) || md5(random()::text), 'hex'))
    ON CONFLICT (tenant_id, data_subject_id) DO NOTHING RETURNING 1),
  s1 AS (INSERT INTO event_log (id, tenant_id, space_id, event_type, event_schema_version, subject_type, subject_id, actor_id,
    actor_type, action_invocation_id, payload, sequence, occurred_at, recorded_at, correlation_id, causation_id, hash)
    VALUES (gen_random_uuid(), '${T}', 'space-1', 'AccountOpened', 2, 'account', 'acc-' || :r::text,
    'bench-user', 'user', gen_random_uuid(), ':payload', 1, now(), now(), ':corr', ':corr', sha256('x'::bytea))),
  s2 AS (INSERT INTO outbox (event_id, topic, message_key, headers, value)
    VALUES (gen_random_uuid(), ':topic', '${T}:' || 'acc-' || :r::text, ':headers', ':value')),
  s3 AS (INSERT INTO idempotency_keys (tenant_id, key, action_id, request_hash, status_code, body)
    VALUES ('${T}', 'open-' || :r::text, 'ledger.open-account', ':hash', 201, ':body'))
  SELECT spine_expect_rows((SELECT count(*) FROM s0), 1, 'subject_state'),
    spine_expect_rows((SELECT count(*) FROM sk), 1, 'data_subject_keys') \\; COMMIT;
`;

async function pgbench(
  schema: string,
  script: string,
  vars: Record<string, string>,
  clients: number,
  mode: 'prepared' | 'simple',
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'spine-bench-'));
  const file = join(dir, 'tx.sql');
  // One statement per line (pgbench ends a command at a semicolon; the joins keep the file readable above).
  writeFileSync(file, script.replace(/\n {2,4}/g, ' '));
  const url = new URL(databaseUrl());
  try {
    const args = [
      '-n',
      '-M',
      mode,
      '-c',
      String(clients),
      '-j',
      String(Math.min(clients, 2)),
      '-T',
      String(Math.max(1, Math.round(benchConfig.pgbench.durationMs / 1000))),
      '-f',
      file,
      ...Object.entries(vars).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
      '-h',
      url.hostname,
      '-p',
      url.port || '5432',
      '-U',
      decodeURIComponent(url.username || 'postgres'),
      url.pathname.slice(1),
    ];
    const { stdout } = await run('pgbench', args, {
      env: {
        ...process.env,
        PGOPTIONS: `-c search_path=${schema}`,
        ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}),
      },
      maxBuffer: 10 * 1024 * 1024,
    });
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1] ?? NaN);
    if (!Number.isFinite(tps)) throw new Error(`pgbench printed no tps:\n${stdout}`);
    return round(tps);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pgbenchBaseline(): Promise<Record<string, unknown>> {
  const d = await Deployment.create('pg');
  await d.migrateCommandSchema();
  const sample = new EventStream('pgbench', 1, 1).envelope(0);
  const vars: Record<string, string> = {
    state: JSON.stringify({ status: 'open', ownerName: 'Bench Owner', currency: 'EUR', balance: 0 }),
    payload: JSON.stringify(sample.payload),
    headers: JSON.stringify(kafkaHeaders(sample)),
    value: serializeEnvelope(sample),
    topic: `${d.topicPrefix}spine.account.events`,
    corr: randomUUID(),
    hash: createHash('sha256').update('bench').digest('hex'),
    body: JSON.stringify({ accountId: sample.subjectId, sequence: 1 }),
  };
  try {
    const runs: { clients: number; tps: number }[] = [];
    for (const clients of benchConfig.pgbench.clients) {
      runs.push({ clients, tps: await pgbench(d.commandSchema, RAW_TX, vars, clients, 'prepared') });
    }
    const peak = runs.reduce((a, b) => (b.tps > a.tps ? b : a));
    const executor = await pgbench(d.commandSchema, EXECUTOR_TX, vars, peak.clients, 'simple');
    return {
      runs,
      peak,
      executorSequence: { clients: peak.clients, tps: executor },
      script: RAW_TX.trim(),
      executorScript: EXECUTOR_TX.trim(),
      valueBytes: Buffer.byteLength(vars.value),
    };
  } finally {
    await d.destroy();
  }
}

/**
 * B_upsert: raw batch upserts into the read model a rebuild of account-balances writes: one statement per 1,000
 * rows (INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE), one transaction each, one connection (a rebuild
 * is one writer). Accounts repeat across batches, so after the first pass the rows are updates, as in a rebuild.
 */
async function upsertBaseline(): Promise<Record<string, unknown>> {
  const d = await Deployment.create('upsert');
  const pool = d.projectorPool(1);
  try {
    await d.migrateProjectorSchema();
    const { rows: total, batch, accounts } = benchConfig.upsert;
    const stream = new EventStream('upsert', accounts, 1);
    const ids = Array.from({ length: accounts }, (_, i) => stream.accountId(i));
    const start = performance.now();
    for (let i = 0; i < total; i += batch) {
      const n = Math.min(batch, total - i);
      const batchIds = Array.from({ length: n }, (_, k) => ids[(i + k) % accounts]);
      await pool.query(
        `INSERT INTO account_balances AS t (tenant_id, account_id, owner_name, currency, balance, status, sequence, updated_at)
         SELECT $1, a, 'Bench Owner', 'EUR', b, 'open', s, now()
           FROM unnest($2::text[], $3::bigint[], $4::int[]) AS x(a, b, s)
         ON CONFLICT (tenant_id, account_id) DO UPDATE
           SET balance = t.balance + EXCLUDED.balance, sequence = EXCLUDED.sequence, updated_at = EXCLUDED.updated_at`,
        [benchConfig.tenantId, batchIds, batchIds.map(() => 100), batchIds.map(() => Math.floor(i / accounts) + 1)],
      );
    }
    const seconds = (performance.now() - start) / 1000;
    return { rows: total, batch, accounts, seconds: round(seconds, 2), rowsPerSecond: round(total / seconds) };
  } finally {
    await pool.end();
    await d.destroy();
  }
}

/**
 * B_http: the bench's own load (`POST /v1/accounts` with an Idempotency-Key, closed loop at the command scenario's
 * concurrencies, best counts) against a bare Fastify route that writes the same four rows in one statement
 * (`bench/lib/bare-http.ts`), in its own process with the command service's pool size: what the HTTP command rate
 * could be on this machine if the service did nothing but the command's writes.
 */
async function httpBaseline(): Promise<Record<string, unknown>> {
  const d = await Deployment.create('http');
  await d.migrateCommandSchema();
  const server = spawn(process.execPath, ['-r', '@swc-node/register', resolve(__dirname, '../lib/bare-http.ts')], {
    env: {
      ...process.env,
      DATABASE_URL: d.databaseUrl,
      DATABASE_SCHEMA: d.commandSchema,
      DATABASE_POOL_SIZE: '8',
      TOPIC: `${d.topicPrefix}spine.account.events`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let client: HttpClient | undefined;
  try {
    const port = await new Promise<number>((resolvePort, reject) => {
      let out = '';
      server.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const listening = /listening (\d+)/.exec(out);
        if (listening) resolvePort(Number(listening[1]));
      });
      server.once('exit', (code) => reject(new Error(`the bare HTTP server exited with ${code} before listening`)));
    });
    const { concurrencies, warmupMs, levelMs } = benchConfig.commands;
    client = new HttpClient(`http://127.0.0.1:${port}`, 'unused', Math.max(...concurrencies));
    await closedLoop(client, Math.min(...concurrencies), warmupMs);
    const levels: Record<string, unknown>[] = [];
    let best = { rate: 0, concurrency: concurrencies[0], cpuMsPerRequest: NaN };
    for (const c of concurrencies) {
      const usage = new UsageSampler([{ name: 'bare-http', pid: server.pid! }]);
      const o = await closedLoop(client, c, levelMs);
      const cores = usage.stop().processes[0].cores;
      const level = {
        concurrency: c,
        rate: round(o.rate),
        failed: o.failed,
        cpuMsPerRequest: round((cores * 1000) / o.rate, 2),
      };
      levels.push(level);
      if (o.failed > 0) throw new Error(`B_http: ${o.failed} requests failed (${JSON.stringify(o.statuses)})`);
      if (o.rate > best.rate) best = { rate: o.rate, concurrency: c, cpuMsPerRequest: level.cpuMsPerRequest };
    }
    return { levels, best: { ...best, rate: round(best.rate) }, poolSize: 8 };
  } finally {
    client?.close();
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode === null ? server.once('exit', r) : r(undefined)));
    await d.destroy();
  }
}

export async function baselines(results: Results): Promise<ScenarioResult> {
  const started = performance.now();
  const pg = await pgbenchBaseline();
  const peak = (pg.peak as { tps: number }).tps;
  const executor = (pg.executorSequence as { tps: number; clients: number }).tps;
  results.setBaseline({
    id: 'B_pg',
    value: peak,
    unit: 'tx/s',
    how: `pgbench -M prepared, BEGIN + 5 INSERTs (subject_state, event_log, outbox, idempotency_keys, data_subject_keys) + COMMIT, peak of ${benchConfig.pgbench.clients.join('/')} clients`,
  });
  const http = await httpBaseline();
  const bestHttp = http.best as { rate: number; concurrency: number; cpuMsPerRequest: number };
  results.setBaseline({
    id: 'B_http',
    value: bestHttp.rate,
    unit: 'req/s',
    how: `bare Fastify route (own process, pool of 8) writing the command's four rows (subject_state, event_log, outbox, idempotency_keys) in one statement; the bench's POST /v1/accounts load, closed loop, best of ${benchConfig.commands.concurrencies.join('/')} clients`,
  });
  const upsert = await upsertBaseline();
  results.setBaseline({
    id: 'B_upsert',
    value: upsert.rowsPerSecond as number,
    unit: 'rows/s',
    how: `INSERT … SELECT FROM unnest ON CONFLICT DO UPDATE into account_balances, ${benchConfig.upsert.batch} rows per transaction, one connection`,
  });
  return {
    id: 'baselines',
    title: '1. Raw baselines (PostgreSQL)',
    rows: [
      results.infoRow('1. B_pg', 'raw command transactions', peak, 'tx/s'),
      results.infoRow(
        '1. B_pg',
        'context: the executor’s 2 round trips in pgbench',
        executor,
        'tx/s',
        'BEGIN + advisory lock + 2 reads; the data-subject key upsert; 4 writes in one statement + COMMIT; simple protocol; not a baseline',
      ),
      results.infoRow(
        '1. B_http',
        'bare HTTP route writing the four rows in one round trip',
        bestHttp.rate,
        'req/s',
        `${bestHttp.concurrency} clients; ${bestHttp.cpuMsPerRequest} CPU-ms per request in the server process`,
      ),
      results.infoRow('1. B_upsert', 'raw read-model batch upserts', upsert.rowsPerSecond as number, 'rows/s'),
    ],
    details: { pgbench: pg, http, upsert },
    wallSeconds: (performance.now() - started) / 1000,
  };
}
