import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type Session } from '../api';
import { DomainPicker, ErrorBox, fmt, Json, useLoad } from '../components';

interface SubjectType {
  subjectType: string;
  stateRoute?: string;
}
export interface DomainInfo {
  domain: string;
  subjectTypes: SubjectType[];
  error?: unknown;
}
interface Envelope {
  id: string;
  eventType: string;
  eventSchemaVersion: number;
  subjectType: string;
  subjectId: string;
  sequence: number;
  recordedAt: string;
  occurredAt: string;
  correlationId: string;
  causationId?: string;
  actionInvocationId: string;
  payload: Record<string, unknown>;
  publication?: { published: boolean; topic?: string; partition?: number; offset?: string };
}

export const loadDomains = () => api.console<{ domains: DomainInfo[] }>('/api/domains');

const subjectHref = (domain: string, type: string, id: string) =>
  `#/subjects/${encodeURIComponent(domain)}/${encodeURIComponent(type)}/${encodeURIComponent(id)}`;

/** A time just after an event was recorded: the log keeps microseconds, an ISO string milliseconds. */
const justAfter = (iso: string) => new Date(Date.parse(iso) + 1).toISOString();
const camel = (type: string) => type.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function Chain({ domain, correlationId, types }: { domain: string; correlationId: string; types: string[] }) {
  const { data, error, loading } = useLoad(
    () =>
      api.service<{ events: Envelope[] }>(
        domain,
        'command',
        `/v1/correlations/${encodeURIComponent(correlationId)}/events`,
      ),
    [domain, correlationId],
  );
  return (
    <section class="card" data-testid="chain">
      <h3>
        Correlation <code>{correlationId}</code> {loading && <span class="muted small">loading…</span>}
      </h3>
      <ErrorBox error={error} />
      {data && (
        <table class="compact">
          <thead>
            <tr>
              <th>recorded</th>
              <th>subject</th>
              <th>seq</th>
              <th>event</th>
              <th>caused by</th>
              <th>published</th>
            </tr>
          </thead>
          <tbody>
            {data.events.map((e) => (
              <tr key={e.id} data-testid="chain-event">
                <td>{fmt.time(e.recordedAt)}</td>
                <td>
                  {types.includes(e.subjectType) ? (
                    <a href={subjectHref(domain, e.subjectType, e.subjectId)}>
                      {e.subjectType}/{e.subjectId}
                    </a>
                  ) : (
                    `${e.subjectType}/${e.subjectId}`
                  )}
                </td>
                <td>{e.sequence}</td>
                <td>{e.eventType}</td>
                <td class="small">{e.causationId ?? '—'}</td>
                <td class="small">
                  {e.publication?.published
                    ? `${e.publication.topic}[${e.publication.partition}]@${e.publication.offset}`
                    : 'no'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Payload fields `<x>EventId` name another event; a sibling `<subjectType>Id` says whose history holds it. */
function References({ domain, event, types }: { domain: string; event: Envelope; types: string[] }) {
  const refs = Object.entries(event.payload)
    .filter(([k, v]) => k.endsWith('EventId') && typeof v === 'string')
    .map(([k, v]) => {
      const owner = types.find((t) => typeof event.payload[`${camel(t)}Id`] === 'string');
      return {
        field: k,
        eventId: v as string,
        owner,
        ownerId: owner && (event.payload[`${camel(owner)}Id`] as string),
      };
    });
  const [found, setFound] = useState<Record<string, Envelope | string>>({});
  if (refs.length === 0) return null;
  const follow = async (ref: (typeof refs)[number]) => {
    if (!ref.owner || !ref.ownerId) return;
    try {
      const { events } = await api.service<{ events: Envelope[] }>(
        domain,
        'command',
        `/v1/subjects/${ref.owner}/${encodeURIComponent(ref.ownerId)}/events?limit=1000`,
      );
      setFound((f) => ({ ...f, [ref.field]: events.find((e) => e.id === ref.eventId) ?? 'not in that history' }));
    } catch (e) {
      setFound((f) => ({ ...f, [ref.field]: String((e as Error).message) }));
    }
  };
  return (
    <div class="refs">
      {refs.map((r) => {
        const hit = found[r.field];
        return (
          <div key={r.field}>
            <code>{r.field}</code> → <code>{r.eventId}</code>{' '}
            {r.owner && (
              <button type="button" class="link" onClick={() => void follow(r)} data-testid="follow-ref">
                find it in {r.owner}/{r.ownerId}
              </button>
            )}
            {typeof hit === 'string' && <span class="muted"> {hit}</span>}
            {hit && typeof hit === 'object' && (
              <span data-testid="ref-found">
                {' '}
                = <a href={subjectHref(domain, hit.subjectType, hit.subjectId)}>{hit.eventType}</a> #{hit.sequence}{' '}
                recorded {fmt.time(hit.recordedAt)}
              </span>
            )}
          </div>
        );
      })}
    </div>
  );
}

function Subject({ domain, type, id, info }: { domain: string; type: string; id: string; info: DomainInfo }) {
  const route = info.subjectTypes.find((t) => t.subjectType === type)?.stateRoute;
  const types = info.subjectTypes.map((t) => t.subjectType);
  const history = useLoad(
    () =>
      api.service<{ events: Envelope[] }>(
        domain,
        'command',
        `/v1/subjects/${encodeURIComponent(type)}/${encodeURIComponent(id)}/events?limit=1000`,
      ),
    [domain, type, id],
  );
  const events = history.data?.events ?? [];
  const [position, setPosition] = useState<number | undefined>(undefined);
  const [picked, setPicked] = useState('');
  const [asOf, setAsOf] = useState<string | undefined>(undefined);
  const [chain, setChain] = useState<string | undefined>(undefined);
  const [open, setOpen] = useState<string | undefined>(undefined);
  useEffect(() => {
    setPosition(undefined);
    setAsOf(undefined);
    setChain(undefined);
  }, [domain, type, id]);
  const index = position ?? events.length - 1;
  const at = asOf ?? (events[index] ? justAfter(events[index].recordedAt) : undefined);
  const state = useLoad(
    async () =>
      route && at
        ? api.service<Record<string, unknown>>(
            domain,
            'command',
            `${route.replace('{id}', encodeURIComponent(id))}?asOf=${encodeURIComponent(at)}`,
          )
        : undefined,
    [domain, route, id, at],
  );
  const knownAt = (e: Envelope) => !at || Date.parse(e.recordedAt) < Date.parse(at);
  return (
    <div class="subject">
      <ErrorBox error={history.error} />
      {events.length > 0 && (
        <section class="card" data-testid="time-travel">
          <h3>
            {type}/{id} as known at <code data-testid="as-of">{at}</code>
          </h3>
          <div class="slider">
            <span class="muted small">{fmt.time(events[0].recordedAt)}</span>
            <input
              type="range"
              min={0}
              max={events.length - 1}
              step={1}
              value={index}
              aria-label="as of event"
              data-testid="time-slider"
              onInput={(e) => {
                setAsOf(undefined);
                setPosition(Number(e.currentTarget.value));
              }}
            />
            <span class="muted small">{fmt.time(events.at(-1)!.recordedAt)}</span>
          </div>
          <div class="muted small">
            {asOf
              ? 'a time you picked'
              : `just after event #${events[index].sequence} (${events[index].eventType}), recorded ${fmt.time(events[index].recordedAt)}`}
          </div>
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              const t = Date.parse(picked);
              if (!Number.isNaN(t)) setAsOf(new Date(t).toISOString());
            }}
          >
            <label>
              or a time (ISO 8601){' '}
              <input
                value={picked}
                placeholder="2026-12-02T10:00:00Z"
                onInput={(e) => setPicked(e.currentTarget.value)}
                name="asOf"
              />
            </label>
            <button type="submit">Show</button>
          </form>
          {!route && <p class="muted">This subject type has no state route with asOf in its command service.</p>}
          <ErrorBox error={state.error} title="State" />
          {state.data && (
            <div data-testid="state">
              <Json value={state.data} />
            </div>
          )}
        </section>
      )}
      {events.length > 0 && (
        <section class="card">
          <h3>
            Events <span class="muted small">{events.length} in sequence order</span>
          </h3>
          <table class="events">
            <thead>
              <tr>
                <th>seq</th>
                <th>event</th>
                <th>recorded</th>
                <th>correlation</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <Fragment key={e.id}>
                  <tr class={knownAt(e) ? '' : 'future'} data-testid="event-row">
                    <td>{e.sequence}</td>
                    <td>
                      {e.eventType} <span class="muted small">v{e.eventSchemaVersion}</span>
                    </td>
                    <td>{fmt.time(e.recordedAt)}</td>
                    <td>
                      <button
                        type="button"
                        class="link"
                        onClick={() => setChain(e.correlationId)}
                        data-testid="open-chain"
                      >
                        {e.correlationId.slice(0, 18)}
                      </button>
                    </td>
                    <td>
                      <button type="button" class="link" onClick={() => setOpen(open === e.id ? undefined : e.id)}>
                        {open === e.id ? 'hide' : 'envelope'}
                      </button>
                    </td>
                  </tr>
                  {open === e.id && (
                    <tr>
                      <td colSpan={5}>
                        <Json value={e} />
                        <References domain={domain} event={e} types={types} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {chain && <Chain domain={domain} correlationId={chain} types={types} />}
    </div>
  );
}

export function SubjectsPage({ session, route }: { session: Session; route: string[] }) {
  const domains = useLoad(loadDomains, []);
  const [domain, type, id] = route;
  const [form, setForm] = useState({ domain: domain ?? session.domains[0] ?? '', type: type ?? '', id: id ?? '' });
  useEffect(() => {
    if (domain) setForm({ domain, type: type ?? '', id: id ?? '' });
  }, [domain, type, id]);
  const info = domains.data?.domains.find((d) => d.domain === form.domain);
  const types = info?.subjectTypes ?? [];
  const chosenType = form.type || types[0]?.subjectType || '';
  const current = domains.data?.domains.find((d) => d.domain === domain);
  return (
    <div data-testid="subjects">
      <h1>Subject explorer</h1>
      <ErrorBox error={domains.error} />
      <form
        class="inline card"
        onSubmit={(e) => {
          e.preventDefault();
          if (form.id.trim()) location.hash = subjectHref(form.domain, chosenType, form.id.trim());
        }}
      >
        <DomainPicker
          domains={session.domains}
          value={form.domain}
          onChange={(d) => setForm({ domain: d, type: '', id: form.id })}
        />
        <label>
          Subject type{' '}
          <select
            name="subjectType"
            value={chosenType}
            onChange={(e) => setForm({ ...form, type: e.currentTarget.value })}
          >
            {types.map((t) => (
              <option key={t.subjectType} value={t.subjectType}>
                {t.subjectType}
              </option>
            ))}
          </select>
        </label>
        <label>
          Id{' '}
          <input
            name="subjectId"
            size={40}
            value={form.id}
            onInput={(e) => setForm({ ...form, id: e.currentTarget.value })}
          />
        </label>
        <button type="submit">Open</button>
      </form>
      {info?.error !== undefined && <ErrorBox error={info.error} title="Subject types" />}
      {domain && type && id && current && <Subject domain={domain} type={type} id={id} info={current} />}
    </div>
  );
}
