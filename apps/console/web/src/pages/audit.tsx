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

const FILTERS = ['action', 'actor', 'outcome', 'since', 'until'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

export function AuditPage({ session }: { session: Session }) {
  const [domain, setDomain] = useState(session.domains[0] ?? '');
  const empty: Filters = { action: '', actor: '', outcome: '', since: '', until: '' };
  const [draft, setDraft] = useState<Filters>(empty);
  const [filters, setFilters] = useState<Filters>(empty);
  const query = FILTERS.filter((k) => filters[k].trim())
    .map((k) => `${k}=${encodeURIComponent(filters[k].trim())}`)
    .join('&');
  const list = useLoad(
    () => api.console<{ entries: Entry[] }>(`/api/audit/${encodeURIComponent(domain)}?limit=200&${query}`),
    [domain, query],
  );
  return (
    <div data-testid="audit">
      <h1>Admin audit log</h1>
      <form
        class="card inline"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        <DomainPicker domains={session.domains} value={domain} onChange={setDomain} />
        {FILTERS.map((k) => (
          <label key={k}>
            {k}{' '}
            <input
              name={k}
              value={draft[k]}
              size={k === 'since' || k === 'until' ? 22 : 14}
              placeholder={k === 'since' || k === 'until' ? 'ISO 8601' : 'contains'}
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
    </div>
  );
}
