import { useEffect, useState } from 'preact/hooks';
import { api, type Session } from '../api';
import { Confirm, DomainPicker, ErrorBox, fmt, Json, useLoad } from '../components';

interface ReplayView {
  replayId: string;
  projection: string;
  mode: 'preview' | 'rebuild';
  source: 'kafka' | 'event-log';
  from: Record<string, unknown>;
  scope: { tenantId?: string; subjectId?: string };
  state: 'running' | 'completed' | 'failed' | 'cancelled';
  phase: string;
  requestedBy: string;
  requestedAt: string;
  finishedAt: string | null;
  progress: { processed: number; total: number; applied: number; eventsPerSecond: number; etaSeconds: number | null };
  diff?: {
    added: number;
    changed: number;
    removed: number;
    unchanged: number;
    subjectsDiffering?: number;
    tables: Record<string, { added: number; changed: number; removed: number; unchanged: number }>;
    samples: Record<
      'added' | 'changed' | 'removed',
      { table: string; row?: unknown; live?: unknown; shadow?: unknown }[]
    >;
  };
  outcome?: Record<string, unknown>;
  error?: string;
}

type FromKind = 'earliest' | 'timestamp' | 'offsets';

function parseOffsets(text: string) {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [partition, offset] = s.split(':').slice(-2);
      const topic = s.slice(0, s.length - partition.length - offset.length - 2);
      return { topic, partition: Number(partition), offset };
    });
}

/** Polls one replay until it ends. */
function useReplay(domain: string, id: string | undefined) {
  const [view, setView] = useState<ReplayView | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    setView(undefined);
    setError(undefined);
    if (!id) return undefined;
    let stopped = false;
    let timer: number | undefined;
    const poll = async () => {
      try {
        const v = await api.service<ReplayView>(domain, 'projector', `/admin/replays/${id}`);
        if (stopped) return;
        setView(v);
        setError(undefined);
        if (v.state === 'running') timer = window.setTimeout(() => void poll(), 500);
      } catch (e) {
        if (!stopped) setError(e);
      }
    };
    void poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [domain, id]);
  return { view, error, setView };
}

function Progress({ view }: { view: ReplayView }) {
  const { processed, total, eventsPerSecond, etaSeconds, applied } = view.progress;
  const pct = view.state === 'completed' ? 100 : total > 0 ? Math.min(100, Math.round((processed / total) * 100)) : 0;
  return (
    <div class="progress-block" data-testid={`replay-${view.mode}`}>
      <div>
        <strong>{view.mode}</strong> <code data-testid="replay-id">{view.replayId}</code> of{' '}
        <strong>{view.projection}</strong> from {view.source} {JSON.stringify(view.from)}
        {view.scope.subjectId && <> · subject {view.scope.subjectId}</>}
      </div>
      <div>
        state{' '}
        <span
          class={`badge ${view.state === 'completed' ? 'ok' : view.state === 'running' ? 'info' : 'bad'}`}
          data-testid="replay-state"
        >
          {view.state}
        </span>{' '}
        phase <code>{view.phase}</code>
      </div>
      <div class="bar" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
        <div style={{ width: `${pct}%` }} />
        <span>{pct}%</span>
      </div>
      <div class="muted small">
        {fmt.num(processed)} / {fmt.num(total)} events · applied {fmt.num(applied)} ·{' '}
        {fmt.num(Math.round(eventsPerSecond))} events/s · ETA {etaSeconds === null ? '—' : `${etaSeconds} s`}
        {view.finishedAt && <> · finished {fmt.time(view.finishedAt)}</>}
      </div>
      {view.error && <ErrorBox error={{ code: 'REPLAY_FAILED', message: view.error }} />}
      {view.outcome && (
        <details open={view.mode === 'rebuild'}>
          <summary>outcome</summary>
          <Json value={view.outcome} />
        </details>
      )}
    </div>
  );
}

function Diff({ diff }: { diff: NonNullable<ReplayView['diff']> }) {
  return (
    <div class="diff" data-testid="diff">
      <div class="figures">
        {(['added', 'changed', 'removed', 'unchanged'] as const).map((k) => (
          <div key={k} class={`figure ${k}`} data-testid={`diff-${k}`}>
            <div class="label">{k}</div>
            <div class="value">{fmt.num(diff[k])}</div>
          </div>
        ))}
      </div>
      <table class="compact">
        <thead>
          <tr>
            <th>table</th>
            <th>added</th>
            <th>changed</th>
            <th>removed</th>
            <th>unchanged</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(diff.tables).map(([table, t]) => (
            <tr key={table}>
              <td>{table}</td>
              <td>{t.added}</td>
              <td>{t.changed}</td>
              <td>{t.removed}</td>
              <td>{t.unchanged}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {(['added', 'changed', 'removed'] as const)
        .filter((k) => diff.samples[k].length > 0)
        .map((k) => (
          <details key={k}>
            <summary>
              {k}: {diff.samples[k].length} sample(s)
            </summary>
            {diff.samples[k].map((s, i) => (
              <div key={i} class="sample">
                <div class="muted small">{s.table}</div>
                {k === 'changed' ? (
                  <div class="two">
                    <div>
                      live <Json value={s.live} />
                    </div>
                    <div>
                      rebuilt <Json value={s.shadow} />
                    </div>
                  </div>
                ) : (
                  <Json value={s.row} />
                )}
              </div>
            ))}
          </details>
        ))}
    </div>
  );
}

export function ReplayPage({ session }: { session: Session }) {
  const [domain, setDomain] = useState(session.domains[0] ?? '');
  const projections = useLoad(
    () => api.service<{ projections: { name: string; version: number }[] }>(domain, 'projector', '/admin/projections'),
    [domain],
  );
  const names = projections.data?.projections.map((p) => p.name) ?? [];
  const [projection, setProjection] = useState('');
  const [source, setSource] = useState<'kafka' | 'event-log'>('kafka');
  const [fromKind, setFromKind] = useState<FromKind>('earliest');
  const [fromValue, setFromValue] = useState('');
  const [subjectId, setSubjectId] = useState('');
  const [previewId, setPreviewId] = useState<string | undefined>(undefined);
  const [rebuildId, setRebuildId] = useState<string | undefined>(undefined);
  const [requestError, setRequestError] = useState<unknown>(undefined);
  const [signing, setSigning] = useState(false);
  const preview = useReplay(domain, previewId);
  const rebuild = useReplay(domain, rebuildId);
  const chosen = projection || names[0] || '';

  if (projections.error) return <ErrorBox error={projections.error} />;

  const start = async (body: Record<string, unknown>, name: string) => {
    setRequestError(undefined);
    try {
      const view = await api.service<ReplayView>(
        domain,
        'projector',
        `/admin/projections/${encodeURIComponent(name)}/replays`,
        'POST',
        body,
      );
      return view.replayId;
    } catch (e) {
      setRequestError(e);
      return undefined;
    }
  };
  const startPreview = async (e: Event) => {
    e.preventDefault();
    const from =
      fromKind === 'earliest'
        ? { earliest: true }
        : fromKind === 'timestamp'
          ? { timestamp: fromValue.trim() }
          : { offsets: parseOffsets(fromValue) };
    const id = await start(
      { mode: 'preview', source, from, ...(subjectId.trim() ? { scope: { subjectId: subjectId.trim() } } : {}) },
      chosen,
    );
    if (id) {
      setRebuildId(undefined);
      setPreviewId(id);
    }
  };
  const signOff = async () => {
    setSigning(false);
    const p = preview.view;
    if (!p) return;
    const id = await start(
      {
        mode: 'rebuild',
        source: p.source,
        from: p.from,
        ...(p.scope.subjectId ? { scope: { subjectId: p.scope.subjectId } } : {}),
        confirm: p.replayId,
      },
      p.projection,
    );
    if (id) setRebuildId(id);
  };
  const cancel = async (id: string) => {
    setRequestError(undefined);
    try {
      await api.service(domain, 'projector', `/admin/replays/${id}/cancel`, 'POST', {});
    } catch (e) {
      setRequestError(e);
    }
  };
  const p = preview.view;
  return (
    <div data-testid="replay">
      <h1>Projections and replay</h1>
      <form class="card form-grid" onSubmit={(e) => void startPreview(e)}>
        <DomainPicker
          domains={session.domains}
          value={domain}
          onChange={(d) => {
            setDomain(d);
            setProjection('');
            setPreviewId(undefined);
            setRebuildId(undefined);
          }}
        />
        <label>
          Projection{' '}
          <select name="projection" value={chosen} onChange={(e) => setProjection(e.currentTarget.value)}>
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Source{' '}
          <select
            name="source"
            value={source}
            onChange={(e) => setSource(e.currentTarget.value as 'kafka' | 'event-log')}
          >
            <option value="kafka">Kafka</option>
            <option value="event-log">event log (command service)</option>
          </select>
        </label>
        <label>
          From{' '}
          <select name="from" value={fromKind} onChange={(e) => setFromKind(e.currentTarget.value as FromKind)}>
            <option value="earliest">earliest</option>
            <option value="timestamp">a timestamp</option>
            <option value="offsets">offsets (Kafka)</option>
          </select>
        </label>
        {fromKind !== 'earliest' && (
          <label>
            {fromKind === 'timestamp' ? 'Timestamp (ISO 8601)' : 'Offsets topic:partition:offset,…'}{' '}
            <input name="fromValue" value={fromValue} size={40} onInput={(e) => setFromValue(e.currentTarget.value)} />
          </label>
        )}
        <label>
          Scope: subject id (optional){' '}
          <input
            name="scopeSubjectId"
            value={subjectId}
            size={38}
            onInput={(e) => setSubjectId(e.currentTarget.value)}
          />
        </label>
        <div>
          <button type="submit" disabled={!chosen || p?.state === 'running'} data-testid="start-preview">
            Start preview
          </button>{' '}
          <span class="muted small">A preview builds a shadow copy and compares it; nothing live changes.</span>
        </div>
      </form>
      <ErrorBox error={requestError} title="The projector refused" />
      {previewId && (
        <section class="card">
          <h3>Preview</h3>
          <ErrorBox error={preview.error} />
          {p && <Progress view={p} />}
          {p?.state === 'running' && (
            <button type="button" onClick={() => void cancel(p.replayId)} data-testid="cancel-replay">
              Cancel preview
            </button>
          )}
          {p?.diff && <Diff diff={p.diff} />}
          {p?.state === 'completed' && p.mode === 'preview' && !rebuildId && (
            <div class="signoff">
              <p>
                A rebuild replaces the live rows in scope with what this preview showed. It must confirm a finished
                preview of the same request.
              </p>
              <button type="button" class="danger" onClick={() => setSigning(true)} data-testid="sign-off">
                Sign off and rebuild…
              </button>
            </div>
          )}
        </section>
      )}
      {signing && p && (
        <Confirm
          title="Rebuild the live read model"
          confirmLabel={`Rebuild ${p.projection}`}
          onConfirm={() => void signOff()}
          onCancel={() => setSigning(false)}
        >
          <p>
            Rebuild <strong>{p.projection}</strong> from {p.source} {JSON.stringify(p.from)}
            {p.scope.subjectId ? ` for subject ${p.scope.subjectId}` : ' for your whole tenant'}, confirming preview{' '}
            <code data-testid="confirms-preview">{p.replayId}</code>
            {p.diff && ` (${p.diff.added} added, ${p.diff.changed} changed, ${p.diff.removed} removed)`}.
          </p>
          <p class="muted small">Signed by {session.principal.actorId}; written to the admin audit log.</p>
        </Confirm>
      )}
      {rebuildId && (
        <section class="card" data-testid="rebuild">
          <h3>
            Rebuild{' '}
            <span class="muted small">
              confirms preview <code>{previewId}</code>
            </span>
          </h3>
          <ErrorBox error={rebuild.error} />
          {rebuild.view && <Progress view={rebuild.view} />}
          {rebuild.view?.state === 'running' && (
            <button type="button" onClick={() => void cancel(rebuildId)}>
              Cancel rebuild
            </button>
          )}
        </section>
      )}
    </div>
  );
}
