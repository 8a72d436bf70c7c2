import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure } from './api';

/** Loads data and reloads it on demand (or every `refreshMs`); keeps the last good data while a reload runs. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], refreshMs?: number) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const run = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const value = await load();
      if (mine !== generation.current) return;
      setData(value);
      setError(undefined);
    } catch (e) {
      if (mine !== generation.current) return;
      setError(e);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, deps);
  useEffect(() => {
    setData(undefined);
    void run();
    if (!refreshMs) return undefined;
    const timer = setInterval(() => void run(), refreshMs);
    return () => clearInterval(timer);
  }, [run, refreshMs]);
  return { data, error, loading, reload: run };
}

/** An error body `{statusCode, code, message}` (or anything else) as an ApiFailure. */
export function asFailure(error: unknown): ApiFailure {
  if (error instanceof ApiFailure) return error;
  const body = error as { statusCode?: unknown; code?: unknown; message?: unknown } | null;
  if (body && typeof body === 'object' && typeof body.code === 'string')
    return new ApiFailure(
      typeof body.statusCode === 'number' ? body.statusCode : 0,
      body.code,
      typeof body.message === 'string' ? body.message : '',
      body,
    );
  return new ApiFailure(0, 'CONSOLE_ERROR', error instanceof Error ? error.message : String(error), undefined);
}

/** Any error as the API said it: status, code and message; never a blank page. */
export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (error === undefined || error === null) return null;
  if (asFailure(error).status === 403) return <Forbidden error={asFailure(error)} />;
  const failure = asFailure(error);
  const body = failure.body as { correlationId?: string; details?: unknown } | undefined;
  return (
    <div class="error" role="alert" data-testid="api-error">
      {title && <div class="error-title">{title}</div>}
      <div>
        <span class="error-status">{failure.status || 'network'}</span> <code class="error-code">{failure.code}</code>{' '}
        <span class="error-message">{failure.message}</span>
      </div>
      {body?.details !== undefined && <pre class="json small">{JSON.stringify(body.details, null, 2)}</pre>}
      {body?.correlationId && <div class="muted small">correlation id {body.correlationId}</div>}
    </div>
  );
}

/** The 403 page: the service refused the caller (no admin role, another tenant's data). */
export function Forbidden({ error }: { error: ApiFailure }) {
  return (
    <section class="forbidden" role="alert" data-testid="forbidden">
      <h2>403 — not allowed</h2>
      <p>
        <code class="error-code">{error.code}</code> <span class="error-message">{error.message}</span>
      </p>
      <p class="muted">
        The service decided this from your token. Admin pages need a token with the <code>admin</code> role.
      </p>
    </section>
  );
}

/** A small line chart over time (inline SVG, no library). */
export function Sparkline({
  points,
  label,
  color = '#2f6fb0',
}: {
  points: { t: number; v: number | null }[];
  label: string;
  color?: string;
}) {
  const width = 260;
  const height = 56;
  const values = points.filter((p): p is { t: number; v: number } => p.v !== null);
  const last = values.at(-1)?.v;
  if (values.length === 0)
    return (
      <figure class="spark">
        <figcaption>
          {label}: <span class="muted">no samples yet</span>
        </figcaption>
      </figure>
    );
  const t0 = values[0].t;
  const t1 = Math.max(values.at(-1)!.t, t0 + 1);
  const top = Math.max(1, ...values.map((p) => p.v));
  const bottom = Math.min(0, ...values.map((p) => p.v));
  const x = (t: number) => ((t - t0) / (t1 - t0)) * (width - 4) + 2;
  const y = (v: number) => height - 4 - ((v - bottom) / (top - bottom)) * (height - 8);
  const path = values.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  return (
    <figure class="spark">
      <figcaption>
        {label}: <strong>{last}</strong>{' '}
        <span class="muted small">
          (max {top}, {values.length} samples)
        </span>
      </figcaption>
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
        <line x1="0" x2={width} y1={y(0)} y2={y(0)} class="axis" />
        <path d={path} fill="none" stroke={color} stroke-width="2" />
      </svg>
    </figure>
  );
}

/** A confirmation in the page (not a browser dialog): says what will happen, then does it. */
export function Confirm({
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <div class="modal-backdrop">
      <div class="modal" role="dialog" aria-modal="true" aria-label={title}>
        <h3>{title}</h3>
        <div>{children}</div>
        <div class="actions">
          <button type="button" class="danger" onClick={onConfirm} data-testid="confirm">
            {confirmLabel}
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </div>
    </div>
  );
}

export function DomainPicker({
  domains,
  value,
  onChange,
}: {
  domains: string[];
  value: string;
  onChange: (domain: string) => void;
}) {
  return (
    <label>
      Domain{' '}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)} name="domain">
        {domains.map((d) => (
          <option key={d} value={d}>
            {d}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Json({ value }: { value: unknown }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

export const fmt = {
  num: (n: number | null | undefined) => (n === null || n === undefined ? '—' : n.toLocaleString('en')),
  ms: (n: number | null | undefined) => (n === null || n === undefined ? '—' : `${n} ms`),
  secs: (n: number | null | undefined) => (n === null || n === undefined ? '—' : `${Math.round(n * 10) / 10} s`),
  time: (iso: string | null | undefined) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 23) : '—'),
};

export function Status({ ok, label }: { ok: boolean; label: string }) {
  return <span class={`badge ${ok ? 'ok' : 'bad'}`}>{label}</span>;
}
