import { HttpError, type ReplayStatus } from './api';
import {
  formatDuration,
  renderDiff,
  renderHttpError,
  renderParked,
  renderProgressLine,
  renderProjections,
  renderRelease,
  renderReplaySummary,
  renderSample,
  renderTable,
  swappedOf,
} from './render';

const partition = (p: number, offset: number, lag: number) => ({
  topic: 'spine.account.events',
  partition: p,
  offset,
  lag,
  applied: offset - 2,
  duplicates: 2,
  parked: 0,
});

describe('renderTable', () => {
  it('pads columns to the widest cell and right-aligns numbers', () => {
    expect(
      renderTable(
        ['NAME', 'N'],
        [
          ['a', 1],
          ['long-name', 1234],
        ],
      ),
    ).toBe(['NAME          N', 'a             1', 'long-name  1234'].join('\n'));
  });
});

describe('renderProjections', () => {
  it('prints one row per projection and partition, then the consumer group and parked subjects', () => {
    const text = renderProjections({
      consumerGroup: 'spine-projector',
      projections: [
        {
          name: 'account-balances',
          version: 3,
          partitions: [partition(0, 120, 0), partition(1, 7, 15)],
          parkedSubjects: 2,
        },
        { name: 'tenant-totals', version: 1, partitions: [], parkedSubjects: 2 },
      ],
    });
    expect(text.split('\n')).toEqual([
      'PROJECTION        VERSION  TOPIC                 PARTITION  OFFSET  LAG  APPLIED  DUPLICATES  PARKED',
      'account-balances        3  spine.account.events          0     120    0      118           2       0',
      'account-balances        3  spine.account.events          1       7   15        5           2       0',
      'tenant-totals           1  -                             -       -    -        -           -       -',
      '',
      'consumer group: spine-projector',
      'parked subjects: 2 (npm run spine -- parked)',
    ]);
  });

  it('says so when there is nothing', () => {
    expect(renderProjections({ projections: [] })).toBe('no projections');
  });
});

describe('renderDiff', () => {
  it('prints the counts and at most five samples of each kind', () => {
    const added = Array.from({ length: 7 }, (_, i) => ({ accountId: `a${i}`, balance: i * 10 }));
    const text = renderDiff({
      added: 12,
      changed: 1,
      removed: 0,
      samples: { added, changed: [{ key: 'b', before: { balance: 1 }, after: { balance: 2 } }], removed: [] },
    });
    expect(text.split('\n')).toEqual([
      'diff: 12 added, 1 changed, 0 removed',
      '  added (12, 5 shown):',
      '    {"accountId":"a0","balance":0}',
      '    {"accountId":"a1","balance":10}',
      '    {"accountId":"a2","balance":20}',
      '    {"accountId":"a3","balance":30}',
      '    {"accountId":"a4","balance":40}',
      '    … 7 more',
      '  changed (1, 1 shown):',
      '    {"key":"b","before":{"balance":1},"after":{"balance":2}}',
    ]);
  });

  it('prints only the counts of an empty diff, and shortens long samples', () => {
    expect(renderDiff({ added: 0, changed: 0, removed: 0 })).toBe('diff: 0 added, 0 changed, 0 removed');
    const long = renderDiff({ added: 0, changed: 0, removed: 1, samples: { removed: ['x'.repeat(500)] } });
    expect(long.split('\n')[2]).toBe(`    ${'x'.repeat(199)}…`);
  });
});

describe('renderDiff with the projector’s row samples', () => {
  const live = { account_id: 'a-1', tenant_id: 't1', balance: 1250, sequence: 2, owner_name: 'Ada' };
  const shadow = { ...live, balance: 1300, sequence: 3 };

  it('prints a changed row as its identifiers and the fields that differ', () => {
    expect(renderSample({ table: 'account_balances', live, shadow })).toBe(
      'account_balances account_id=a-1 tenant_id=t1: balance 1250 → 1300, sequence 2 → 3',
    );
  });

  it('prints an added or removed row as its table and the row', () => {
    expect(renderSample({ table: 'account_statements', row: { account_id: 'a-1', sequence: 4 } })).toBe(
      'account_statements {"account_id":"a-1","sequence":4}',
    );
  });

  it('adds per-table counts, unchanged rows and subjects at another sequence', () => {
    const text = renderDiff({
      added: 1,
      changed: 1,
      removed: 0,
      unchanged: 40,
      tables: {
        account_balances: { added: 0, changed: 1, removed: 0, unchanged: 10 },
        account_statements: { added: 1, changed: 0, removed: 0, unchanged: 30 },
      },
      samples: {
        added: [{ table: 'account_statements', row: { account_id: 'a-1', sequence: 4 } }],
        changed: [{ table: 'account_balances', live, shadow }],
        removed: [],
      },
      subjectsDiffering: 2,
    });
    expect(text.split('\n')).toEqual([
      'diff: 1 added, 1 changed, 0 removed, 40 unchanged',
      '  account_balances: 0 added, 1 changed, 0 removed, 10 unchanged',
      '  account_statements: 1 added, 0 changed, 0 removed, 30 unchanged',
      '  2 subject(s) at another sequence than live (parked or still flowing)',
      '  added (1, 1 shown):',
      '    account_statements {"account_id":"a-1","sequence":4}',
      '  changed (1, 1 shown):',
      '    account_balances account_id=a-1 tenant_id=t1: balance 1250 → 1300, sequence 2 → 3',
    ]);
  });
});

describe('renderReplaySummary', () => {
  it('a completed preview: state, counts, diff', () => {
    const status: ReplayStatus = {
      state: 'completed',
      mode: 'preview',
      source: 'kafka',
      projection: 'account-balances',
      progress: { processed: 1000, total: 1000, eventsPerSecond: 812.4, etaSeconds: 0 },
      diff: { added: 1, changed: 0, removed: 0, samples: { added: [{ accountId: 'a' }] } },
    };
    expect(renderReplaySummary('r-1', status).split('\n')).toEqual([
      'replay r-1 (preview of account-balances from kafka): completed',
      '  processed 1000 of 1000 events at 812 ev/s',
      '  diff: 1 added, 0 changed, 0 removed',
      '    added (1, 1 shown):',
      '      {"accountId":"a"}',
    ]);
  });

  it('a rebuild says whether it was swapped in; a failure says why', () => {
    const swapped = { state: 'completed', phase: 'completed', mode: 'rebuild', outcome: { swapped: true } };
    expect(renderReplaySummary('r-2', swapped).split('\n')).toEqual([
      'replay r-2 (rebuild): completed',
      '  swapped: yes, the rebuilt read model is live',
    ]);
    expect(swappedOf({ state: 'running', mode: 'rebuild' })).toBeUndefined();
    expect(swappedOf({ state: 'cancelled', mode: 'rebuild' })).toBe(false);
    const failed = renderReplaySummary('r-3', {
      state: 'failed',
      phase: 'failed',
      mode: 'rebuild',
      progress: { processed: 5, total: null },
      error: 'not swapped: the shadow could not reach the live positions',
    });
    expect(failed.split('\n')).toEqual([
      'replay r-3 (rebuild): failed',
      '  processed 5 events',
      '  error: not swapped: the shadow could not reach the live positions',
      '  swapped: no, the live read model is untouched',
    ]);
    expect(renderReplaySummary('r-5', { state: 'failed', error: { code: 'E', message: 'boom' } })).toContain(
      'error: E: boom',
    );
  });

  it('a completed preview without a diff says the diff is missing', () => {
    expect(renderReplaySummary('r-4', { state: 'completed', mode: 'preview' })).toContain('diff: not reported');
  });
});

describe('renderProgressLine', () => {
  it('draws the bar from processed/total with the rate and ETA the API reports', () => {
    expect(
      renderProgressLine(
        { state: 'running', progress: { processed: 250, total: 1000, eventsPerSecond: 99.6, etaSeconds: 75 } },
        8,
      ),
    ).toBe('[██░░░░░░] 25% 250/1000 events | 100 ev/s | ETA 1m15s | running');
    expect(renderProgressLine({ state: 'running', phase: 'reading kafka', progress: { processed: 1 } })).toBe(
      '1 events | running (reading kafka)',
    );
  });

  it('without a total, counts events only; past the total, stays at 100%', () => {
    expect(renderProgressLine({ state: 'running', progress: { processed: 42, total: null } })).toBe(
      '42 events | running',
    );
    expect(renderProgressLine({ state: 'running', progress: { processed: 12, total: 10 } }, 4)).toBe(
      '[████] 100% 12/10 events | running',
    );
  });

  it('formats durations', () => {
    expect([formatDuration(0), formatDuration(59.6), formatDuration(61), formatDuration(7322)]).toEqual([
      '0s',
      '1m00s',
      '1m01s',
      '2h02m',
    ]);
  });
});

describe('parked', () => {
  it('lists subjects with their parked sequences and reason', () => {
    const text = renderParked([
      {
        subjectType: 'account',
        subjectId: 'a-1',
        reason: 'gap',
        parkedAt: '2026-11-22T14:00:00.000Z',
        lastAppliedSequence: '4',
        events: [{ sequence: 6 }, { sequence: 7 }],
      },
    ]);
    expect(text.split('\n')).toEqual([
      'SUBJECT      PARKED AT                 LAST APPLIED  PARKED SEQUENCES  REASON',
      'account/a-1  2026-11-22T14:00:00.000Z             4  6,7               gap',
      '',
      'release one: npm run spine -- parked --retry <subject>   (or --skip <subject> to drop its first parked event)',
    ]);
    expect(renderParked([])).toBe('no parked subjects');
  });

  it('reports a release', () => {
    expect(
      renderRelease('retry', {
        subjectType: 'account',
        subjectId: 'a-1',
        released: 2,
        applied: 2,
        duplicates: 0,
        parkedAgain: 0,
        state: 'flowing',
      }),
    ).toBe('retry account/a-1: flowing (2 released, 2 applied, 0 duplicates, 0 parked again)');
  });
});

describe('renderHttpError', () => {
  it('prints status, code, message and each field error', () => {
    const error = new HttpError(400, 'VALIDATION_FAILED', 'Request validation failed', [
      { field: 'from.timestamp', message: 'must be an ISO 8601 date' },
    ]);
    expect(renderHttpError(error)).toBe(
      'error 400 VALIDATION_FAILED: Request validation failed\n  from.timestamp: must be an ISO 8601 date',
    );
  });
});
