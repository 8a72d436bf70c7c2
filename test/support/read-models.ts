import type { QueryResultRow } from 'pg';
import { revealPersonalData } from '@event-spine/event-log';
import type { EventEnvelope } from '@event-spine/events';
import type { Pipeline } from './pipeline';

/**
 * An event as the command service's log holds it (the canonical truth the read models are checked against), its
 * personal fields opened as every read path opens them.
 */
export interface LogEvent {
  id: string;
  tenantId: string;
  eventType: string;
  subjectType: string;
  subjectId: string;
  sequence: number;
  payload: Record<string, number | string | null>;
}

export interface ReadModels {
  balances: {
    tenant_id: string;
    account_id: string;
    owner_name: string | null;
    currency: string;
    balance: number;
    status: string;
    sequence: number;
  }[];
  statements: {
    tenant_id: string;
    account_id: string;
    sequence: number;
    event_id: string;
    event_type: string;
    amount: number;
    balance_after: number;
  }[];
  totals: { tenant_id: string; currency: string; accounts: number; open_accounts: number; total_balance: number }[];
}

export async function logEvents(pipeline: Pipeline): Promise<LogEvent[]> {
  const { rows } = await pipeline.commandSchema.pool.query<{ value: string }>(
    `SELECT json_build_object('id', id, 'tenantId', tenant_id, 'eventType', event_type, 'subjectType', subject_type,
            'subjectId', subject_id, 'sequence', sequence, 'payload', payload)::text AS value
       FROM event_log ORDER BY tenant_id, subject_type, subject_id, sequence`,
  );
  const pool = pipeline.commandSchema.pool;
  const opened = await revealPersonalData(
    { query: async <T>(sql: string, params?: unknown[]) => (await pool.query(sql, params)).rows as T },
    rows.map((r) => JSON.parse(r.value) as EventEnvelope),
  );
  return opened as unknown as LogEvent[];
}

const byKey =
  <T>(key: (row: T) => string) =>
  (a: T, b: T) =>
    key(a).localeCompare(key(b));

/** The three read models as a pure fold of the event log: what the projector's tables must equal. */
export function foldReadModels(events: readonly LogEvent[]): ReadModels {
  const balances = new Map<string, ReadModels['balances'][number]>();
  const statements: ReadModels['statements'] = [];
  for (const e of events) {
    if (e.subjectType !== 'account') continue;
    const key = `${e.tenantId}/${e.subjectId}`;
    if (e.eventType === 'AccountOpened') {
      balances.set(key, {
        tenant_id: e.tenantId,
        account_id: e.subjectId,
        owner_name: e.payload.ownerName === null ? null : String(e.payload.ownerName),
        currency: String(e.payload.currency),
        balance: 0,
        status: 'open',
        sequence: e.sequence,
      });
      continue;
    }
    const account = balances.get(key);
    if (!account) continue;
    account.sequence = e.sequence;
    if (e.eventType === 'AccountClosed') account.status = 'closed';
    const amount =
      e.eventType === 'FundsDeposited'
        ? Number(e.payload.amount)
        : e.eventType === 'FundsWithdrawn'
          ? -Number(e.payload.amount)
          : e.eventType === 'EntryReversed'
            ? Number(e.payload.balanceDelta)
            : undefined;
    if (amount === undefined) continue;
    account.balance += amount;
    statements.push({
      tenant_id: e.tenantId,
      account_id: e.subjectId,
      sequence: e.sequence,
      event_id: e.id,
      event_type: e.eventType,
      amount,
      balance_after: account.balance,
    });
  }
  const totals = new Map<string, ReadModels['totals'][number]>();
  for (const a of balances.values()) {
    const key = `${a.tenant_id}/${a.currency}`;
    const t = totals.get(key) ?? {
      tenant_id: a.tenant_id,
      currency: a.currency,
      accounts: 0,
      open_accounts: 0,
      total_balance: 0,
    };
    t.accounts++;
    if (a.status === 'open') t.open_accounts++;
    t.total_balance += a.balance;
    totals.set(key, t);
  }
  return {
    balances: [...balances.values()].sort(byKey((r) => `${r.tenant_id}/${r.account_id}`)),
    statements: statements.sort(byKey((r) => `${r.tenant_id}/${r.account_id}/${String(r.sequence).padStart(9, '0')}`)),
    totals: [...totals.values()].sort(byKey((r) => `${r.tenant_id}/${r.currency}`)),
  };
}

/** The projector's read-model tables, in the same shape and order as the fold. */
export async function projectedReadModels(pipeline: Pipeline): Promise<ReadModels> {
  const q = async <T extends QueryResultRow>(sql: string) => (await pipeline.projectorSchema.pool.query<T>(sql)).rows;
  return {
    balances: await q(
      `SELECT tenant_id, account_id, owner_name, currency, balance::int, status, sequence FROM account_balances
        ORDER BY tenant_id COLLATE "C", account_id COLLATE "C"`,
    ),
    statements: await q(
      `SELECT tenant_id, account_id, sequence, event_id, event_type, amount::int, balance_after::int FROM account_statements
        ORDER BY tenant_id COLLATE "C", account_id COLLATE "C", sequence`,
    ),
    totals: await q(
      `SELECT tenant_id, currency, accounts::int, open_accounts::int, total_balance::int FROM tenant_totals
        ORDER BY tenant_id COLLATE "C", currency COLLATE "C"`,
    ),
  };
}

/** Every read-model table, every column, row for row: to prove something changed nothing live. */
export async function liveSnapshot(pipeline: Pipeline): Promise<Record<string, unknown[]>> {
  const snapshot: Record<string, unknown[]> = {};
  for (const table of [
    'account_balances',
    'account_statements',
    'tenant_totals',
    'tenant_total_accounts',
    'projector_subjects',
  ]) {
    const { rows } = await pipeline.projectorSchema.pool.query<{ r: string }>(
      `SELECT to_jsonb(t)::text AS r FROM ${table} t ORDER BY 1`,
    );
    snapshot[table] = rows.map((row) => row.r);
  }
  return snapshot;
}

/**
 * Waits until the projector's read models equal the fold of the event log (the projector may still be catching up),
 * then asserts it, so a failure shows the difference.
 */
export async function expectReadModelsToEqualTheFold(pipeline: Pipeline, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let expected = foldReadModels(await logEvents(pipeline));
  let actual = await projectedReadModels(pipeline);
  while (JSON.stringify(actual) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    expected = foldReadModels(await logEvents(pipeline));
    actual = await projectedReadModels(pipeline);
  }
  expect(actual).toEqual(expected);
}
