import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { alertNames, readRules, tuneRules } from './prometheus';

const ROOT = resolve(__dirname, '../..');

describe('operations files', () => {
  const rules = readRules();

  it('gives every alert a summary, a runbook and a severity, and a promtool unit test', () => {
    const alerts = alertNames(rules);
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    expect(new Set(alerts).size).toBe(alerts.length);
    const count = (re: RegExp) => rules.match(re)?.length ?? 0;
    expect(count(/^\s+summary: /gm)).toBe(alerts.length);
    expect(count(/^\s+runbook: /gm)).toBe(alerts.length);
    expect(count(/^\s+severity: (warning|critical)$/gm)).toBe(alerts.length);
    const tests = readFileSync(resolve(ROOT, 'ops/prometheus/rules/spine.rules.test.yml'), 'utf8');
    const tested = new Set([...tests.matchAll(/^\s+alertname: (\S+)$/gm)].map((m) => m[1]));
    expect(alerts.filter((a) => !tested.has(a))).toEqual([]);
  });

  it('tunes only the for: line and one threshold literal of the named alerts', () => {
    const tuned = tuneRules(rules, {
      SpineOutboxOldestUnpublishedTooOld: { for: '2s', threshold: { from: '> 60', to: '> 3' } },
      SpineRelayInstanceLost: { for: '1s' },
    });
    const before = rules.split('\n');
    const after = tuned.split('\n');
    expect(after).toHaveLength(before.length);
    const changed = after.flatMap((line, i) => (line === before[i] ? [] : [[before[i].trim(), line.trim()]]));
    expect(changed).toEqual([
      [
        'expr: max by (service) (spine_relay_oldest_unpublished_age_seconds) > 60',
        'expr: max by (service) (spine_relay_oldest_unpublished_age_seconds) > 3',
      ],
      ['for: 2m', 'for: 2s'],
      ['for: 1m', 'for: 1s'],
    ]);
  });

  it('refuses a tuning that does not match the shipped rules exactly once', () => {
    expect(() => tuneRules(rules, { SpineNoSuchAlert: { for: '1s' } })).toThrow(/found 0 times/);
    // SpineReplayFailed fires at once: it has no for: to shorten.
    expect(() => tuneRules(rules, { SpineReplayFailed: { for: '1s' } })).toThrow(/0 'for:' lines/);
    expect(() =>
      tuneRules(rules, { SpineOutboxBacklogGrowing: { for: '1s', threshold: { from: '> 100', to: '> 5' } } }),
    ).toThrow(/found 0 times/);
    // Only the expression is searched: `> 0` is in this alert's runbook, not in its expr.
    expect(rules).toContain('spine_relay_held_buckets > 0 means');
    expect(() =>
      tuneRules(rules, { SpineOutboxOldestUnpublishedTooOld: { for: '1s', threshold: { from: '> 0', to: '> 1' } } }),
    ).toThrow(/found 0 times in its expr/);
  });

  it('ships a Grafana dashboard whose panels each query Prometheus', () => {
    const dashboard = JSON.parse(readFileSync(resolve(ROOT, 'ops/grafana/dashboards/event-spine.json'), 'utf8'));
    expect(dashboard.uid).toBe('event-spine');
    const panels = dashboard.panels as { id: number; type: string; targets?: { expr: string }[] }[];
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.expr).toMatch(/\S/);
    }
  });
});
