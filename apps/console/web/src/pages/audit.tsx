import { useState } from 'preact/hooks';
import { api, type Session } from '../api';
import { DomainPicker, ErrorBox, fmt, useLoad } from '../components';

interface Entry {
  id: number;
  at: string;
  actorId: string;
  action: string;
  target: unknown;
  outcome: string;
  details: unknown;
}

interface AuditLog {
  entries: Entry[];
  nextBefore: number | null;
}

const FILTERS = ['action', 'actorId', 'outcome', 'since', 'until'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

// How the projector matches each filter (GET /admin/audit-log), said where it is typed.
const HINTS: Filters = {
  action: 'parked or parked.retry',
  actorId: 'exactly',
  outcome: 'starts with',
  since: 'ISO 8601',
  until: 'ISO 8601',
};

export function AuditPage({ session }: { session: Session }) {
  const [domain, setDomain] = useState(session.domains[0] ?? '');
  const empty: Filters = { action: '', actorId: '', outcome: '', since: '', until: '' };
  const [draft, setDraft] = useState<Filters>(empty);
  const [filters, setFilters] = useState<Filters>(empty);
  // The ids that started each page seen, so "newer" goes back the way "older" came.
  const [pages, setPages] = useState<number[]>([]);
  const before = pages.at(-1);
  const query = [
    'limit=100',
    ...FILTERS.filter((k) => filters[k].trim()).map((k) => `${k}=${encodeURIComponent(filters[k].trim())}`),
    ...(before === undefined ? [] : [`before=${before}`]),
  ].join('&');
  const list = useLoad(() => api.service<AuditLog>(domain, 'projector', `/admin/audit-log?${query}`), [domain, query]);
  const next = list.data?.nextBefore ?? null;
  return (
    <div data-testid="audit">
      <h1>Admin audit log</h1>
      <form
        class="card inline"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
          setPages([]);
        }}
      >
        <DomainPicker
          domains={session.domains}
          value={domain}
          onChange={(d) => {
            setDomain(d);
            setPages([]);
          }}
        />
        {FILTERS.map((k) => (
          <label key={k}>
            {k}{' '}
            <input
              name={k}
              value={draft[k]}
              size={k === 'since' || k === 'until' ? 22 : 16}
              placeholder={HINTS[k]}
              onInput={(e) => setDraft({ ...draft, [k]: e.currentTarget.value })}
            />
          </label>
        ))}
        <button type="submit">Filter</button>
      </form>
      <ErrorBox error={list.error} />
      {list.data && (
        <table data-testid="audit-table">
          <thead>
            <tr>
              <th>when</th>
              <th>who</th>
              <th>what</th>
              <th>target</th>
              <th>outcome</th>
            </tr>
          </thead>
          <tbody>
            {list.data.entries.map((e) => (
              <tr key={e.id} data-testid="audit-entry">
                <td>{fmt.time(e.at)}</td>
                <td>{e.actorId}</td>
                <td>{e.action}</td>
                <td class="small">
                  <code>{JSON.stringify(e.target)}</code>
                </td>
                <td>
                  {e.outcome}
                  {e.details !== null && e.details !== undefined && (
                    <details>
                      <summary class="small">details</summary>
                      <code class="small">{JSON.stringify(e.details)}</code>
                    </details>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data?.entries.length === 0 && <p class="muted">No entries match.</p>}
      {list.data && (pages.length > 0 || next !== null) && (
        <div class="inline">
          <button type="button" disabled={pages.length === 0} onClick={() => setPages(pages.slice(0, -1))}>
            Newer
          </button>
          <button
            type="button"
            data-testid="audit-older"
            disabled={next === null}
            onClick={() => next !== null && setPages([...pages, next])}
          >
            Older
          </button>
        </div>
      )}
    </div>
  );
}
