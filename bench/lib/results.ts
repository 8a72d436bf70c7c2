/**
 * What a run produces. Every row of the summary carries the measured figure, the baseline it is judged against
 * (when the target is relative), the ratio, the target and whether it is met; absolute numbers stay with it.
 */

export type BaselineId =
  | 'B_pg'
  | 'B_http'
  | 'B_prod'
  | 'B_cons'
  | 'B_upsert'
  | 'B_naive_rebuild'
  | 'B_send_p50'
  | 'B_send_p99'
  /** Debezium's figures, measured in the same run on the same rows (scenario 10): references, not raw baselines. */
  | 'D_dbz_rate'
  | 'D_dbz_drain'
  | 'D_dbz_cpu'
  | 'D_dbz_p99';

export interface Baseline {
  id: BaselineId;
  value: number;
  unit: string;
  how: string;
}

export type Target =
  /** measured / baseline >= min */
  | { kind: 'ratio'; baseline: BaselineId; min: number }
  /** measured <= max (latency, cores) */
  | { kind: 'max'; max: number }
  /** no target: context only */
  | { kind: 'none' };

export interface Row {
  scenario: string;
  metric: string;
  measured: number;
  unit: string;
  target: Target;
  baseline?: Baseline;
  ratio?: number;
  /** undefined when the row has no target or could not be judged */
  met?: boolean;
  note?: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  rows: Row[];
  /** Absolute numbers and everything else worth keeping, for the JSON and the details section. */
  details: Record<string, unknown>;
  /** Set when the scenario could not run (e.g. the replay API is not there); the run goes on. */
  unavailable?: string;
  wallSeconds: number;
}

export interface CdfSeries {
  name: string;
  points: { x: number; y: number }[];
  /** Targets drawn on the chart as markers: (ms, quantile). */
  targets?: { ms: number; q: number }[];
}

export class Results {
  readonly baselines = new Map<BaselineId, Baseline>();
  readonly scenarios: ScenarioResult[] = [];
  readonly cdfs: CdfSeries[] = [];

  setBaseline(b: Baseline): void {
    this.baselines.set(b.id, b);
  }

  /** A row judged against a baseline of this run; unjudged (met undefined) if that baseline is missing. */
  ratioRow(
    scenario: string,
    metric: string,
    measured: number,
    unit: string,
    baseline: BaselineId,
    min: number,
    note?: string,
  ): Row {
    const b = this.baselines.get(baseline);
    const ratio = b && b.value > 0 ? measured / b.value : undefined;
    return {
      scenario,
      metric,
      measured,
      unit,
      target: { kind: 'ratio', baseline, min },
      baseline: b,
      ratio,
      met: ratio === undefined || !Number.isFinite(ratio) ? undefined : ratio >= min,
      note: b ? note : [note, `baseline ${baseline} was not measured`].filter(Boolean).join('; '),
    };
  }

  maxRow(scenario: string, metric: string, measured: number, unit: string, max: number, note?: string): Row {
    return {
      scenario,
      metric,
      measured,
      unit,
      target: { kind: 'max', max },
      met: Number.isFinite(measured) ? measured <= max : undefined,
      note,
    };
  }

  /** Shows a row's figure against a baseline (as a ratio) without judging it by it: absolute targets keep their verdict. */
  against(row: Row, baseline: BaselineId): Row {
    const b = this.baselines.get(baseline);
    return b && b.value > 0 ? { ...row, baseline: b, ratio: row.measured / b.value } : row;
  }

  /**
   * A row whose target is at most `max` times a figure measured in this run (e.g. a latency or a cost against
   * Debezium's): shown as an absolute bound (`max` × that figure) with the ratio beside it; unjudged if it is missing.
   */
  ratioMaxRow(
    scenario: string,
    metric: string,
    measured: number,
    unit: string,
    baseline: BaselineId,
    max: number,
    note?: string,
  ): Row {
    const b = this.baselines.get(baseline);
    const ratio = b && b.value > 0 ? measured / b.value : undefined;
    const bound = `${max}× ${baseline}`;
    return {
      scenario,
      metric,
      measured,
      unit,
      target: { kind: 'max', max: b ? Number((max * b.value).toPrecision(4)) : NaN },
      baseline: b,
      ratio,
      met: ratio === undefined || !Number.isFinite(ratio) ? undefined : ratio <= max,
      note: [b ? `target ${bound}` : `baseline ${baseline} was not measured`, note].filter(Boolean).join('; '),
    };
  }

  infoRow(scenario: string, metric: string, measured: number, unit: string, note?: string): Row {
    return { scenario, metric, measured, unit, target: { kind: 'none' }, note };
  }
}
