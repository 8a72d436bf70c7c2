import { api, ApiFailure } from '../api';
import { ErrorBox, fmt, Sparkline, Status, useLoad } from '../components';

interface Reply {
  status: number;
  body: unknown;
}
interface ProjectionPartition {
  topic: string;
  partition: number;
  offset: number;
  lag: number;
  applied: number;
  duplicates: number;
  parked: number;
}
interface ProjectionView {
  name: string;
  version: number;
  parkedSubjects: number;
  partitions: ProjectionPartition[];
}
interface DomainOverview {
  domain: string;
  services: { name: string; role: string; url: string; live: Reply; ready: Reply }[];
  relay?: {
    backlog: number | null;
    oldestUnpublishedAgeSeconds: number | null;
    commitToPublish: { windowSeconds: number; observed: number; p50Ms?: number; p99Ms?: number } | null;
  };
  lag: { topic: string; partition: number; lag: number }[];
  history: { t: number; backlog: number | null; lag: number | null }[];
  projections?: Reply;
}
interface Overview {
  generatedAt: string;
  admin: boolean;
  domains: DomainOverview[];
}

const REFRESH_MS = 5000;

function failureOf(reply: Reply): ApiFailure {
  const body = (reply.body ?? {}) as { code?: string; message?: string };
  return new ApiFailure(
    reply.status,
    body.code ?? `HTTP_${reply.status}`,
    body.message ?? String(reply.body),
    reply.body,
  );
}

function readiness(reply: Reply): string {
  const body = reply.body as { status?: string; error?: Record<string, { status?: string }> } | null;
  if (reply.status === 200) return body?.status ?? 'ok';
  const down = Object.entries(body?.error ?? {})
    .map(([k, v]) => `${k} ${v.status ?? 'down'}`)
    .join(', ');
  return `${reply.status}${down ? ` (${down})` : ''}`;
}

function Projections({ reply }: { reply: Reply }) {
  if (reply.status !== 200) {
    const failure = failureOf(reply);
    return failure.status === 403 ? (
      <p class="muted" data-testid="projections-forbidden">
        Per-projection figures: <code>{failure.code}</code> {failure.message}
      </p>
    ) : (
      <ErrorBox error={failure} title="Projections" />
    );
  }
  const { projections } = reply.body as { projections: ProjectionView[] };
  return (
    <>
      {projections.map((p) => {
        const total = (k: 'applied' | 'duplicates' | 'parked' | 'lag') => p.partitions.reduce((s, x) => s + x[k], 0);
        return (
          <div key={p.name} class="projection" data-testid={`projection-${p.name}`}>
            <h4>
              {p.name} <span class="muted small">v{p.version}</span>{' '}
              <span class="muted small">
                lag {fmt.num(total('lag'))} · applied {fmt.num(total('applied'))} · duplicates{' '}
                {fmt.num(total('duplicates'))} · parked {fmt.num(total('parked'))} · parked subjects{' '}
                {fmt.num(p.parkedSubjects)}
              </span>
            </h4>
            <table class="compact">
              <thead>
                <tr>
                  <th>topic</th>
                  <th>partition</th>
                  <th>offset</th>
                  <th>lag</th>
                  <th>applied</th>
                  <th>duplicates</th>
                  <th>parked</th>
                </tr>
              </thead>
              <tbody>
                {p.partitions.map((x) => (
                  <tr key={`${x.topic}:${x.partition}`}>
                    <td>{x.topic}</td>
                    <td>{x.partition}</td>
                    <td>{fmt.num(x.offset)}</td>
                    <td class={x.lag !== 0 ? 'warn' : ''}>{fmt.num(x.lag)}</td>
                    <td>{fmt.num(x.applied)}</td>
                    <td>{fmt.num(x.duplicates)}</td>
                    <td class={x.parked > 0 ? 'warn' : ''}>{fmt.num(x.parked)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
      })}
    </>
  );
}

function Domain({ d }: { d: DomainOverview }) {
  const latency = d.relay?.commitToPublish;
  return (
    <section class="card" data-testid={`domain-${d.domain}`}>
      <h2>{d.domain}</h2>
      <table>
        <thead>
          <tr>
            <th>service</th>
            <th>role</th>
            <th>url</th>
            <th>live</th>
            <th>ready</th>
          </tr>
        </thead>
        <tbody>
          {d.services.map((s) => (
            <tr key={s.name} data-testid={`service-${s.name}`}>
              <td>{s.name}</td>
              <td>{s.role}</td>
              <td>
                <code>{s.url}</code>
              </td>
              <td>
                <Status ok={s.live.status === 200} label={s.live.status === 200 ? 'live' : readiness(s.live)} />
              </td>
              <td>
                <Status ok={s.ready.status === 200} label={s.ready.status === 200 ? 'ready' : readiness(s.ready)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="figures">
        <div class="figure" data-testid="relay-backlog">
          <div class="label">relay backlog</div>
          <div class="value">{fmt.num(d.relay?.backlog)}</div>
        </div>
        <div class="figure">
          <div class="label">oldest unpublished</div>
          <div class="value">{fmt.secs(d.relay?.oldestUnpublishedAgeSeconds)}</div>
        </div>
        <div class="figure">
          <div class="label">commit → publish p50</div>
          <div class="value">{fmt.ms(latency?.p50Ms)}</div>
        </div>
        <div class="figure">
          <div class="label">commit → publish p99</div>
          <div class="value">{fmt.ms(latency?.p99Ms)}</div>
          <div class="muted small">
            {latency
              ? `${fmt.num(latency.observed)} events, last ${latency.windowSeconds || '–'} s`
              : 'no relay metrics'}
          </div>
        </div>
        <Sparkline label="backlog" points={d.history.map((h) => ({ t: h.t, v: h.backlog }))} />
        <Sparkline label="projection lag" color="#b0602f" points={d.history.map((h) => ({ t: h.t, v: h.lag }))} />
      </div>
      <details>
        <summary>lag per partition (projector metrics)</summary>
        <table class="compact">
          <tbody>
            {d.lag.map((l) => (
              <tr key={`${l.topic}:${l.partition}`}>
                <td>{l.topic}</td>
                <td>{l.partition}</td>
                <td>{l.lag}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      {d.projections && <Projections reply={d.projections} />}
    </section>
  );
}

export function OverviewPage() {
  const { data, error } = useLoad(() => api.console<Overview>('/api/overview'), [], REFRESH_MS);
  return (
    <div data-testid="overview">
      <h1>
        Overview{' '}
        <span class="muted small">
          {data ? `updated ${fmt.time(data.generatedAt)}, refreshes every ${REFRESH_MS / 1000} s` : 'loading…'}
        </span>
      </h1>
      <ErrorBox error={error} />
      {data?.domains.map((d) => (
        <Domain key={d.domain} d={d} />
      ))}
    </div>
  );
}
