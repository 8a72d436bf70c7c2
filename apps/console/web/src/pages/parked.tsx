import { useState } from 'preact/hooks';
import { api, type Session } from '../api';
import { Confirm, DomainPicker, ErrorBox, fmt, Json, useLoad } from '../components';

interface Parked {
  subjectType: string;
  subjectId: string;
  reason: string;
  parkedAt: string;
  lastAppliedSequence: number;
  events: {
    sequence: number | null;
    eventId: string | null;
    reason: string;
    topic: string;
    partition: number;
    offset: string;
  }[];
}

type Action = { kind: 'retry' | 'skip'; subject: Parked };

export function ParkedPage({ session }: { session: Session }) {
  const [domain, setDomain] = useState(session.domains[0] ?? '');
  const list = useLoad(() => api.service<{ parked: Parked[] }>(domain, 'projector', '/admin/parked'), [domain], 10000);
  const [pending, setPending] = useState<Action | undefined>(undefined);
  const [result, setResult] = useState<{ action: Action; body: unknown } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  if (list.error) return <ErrorBox error={list.error} />;
  const run = async (action: Action) => {
    setPending(undefined);
    setError(undefined);
    setResult(undefined);
    const { subjectType, subjectId } = action.subject;
    try {
      const body = await api.service(
        domain,
        'projector',
        `/admin/parked/${encodeURIComponent(subjectType)}/${encodeURIComponent(subjectId)}/${action.kind}`,
        'POST',
        {},
      );
      setResult({ action, body });
    } catch (e) {
      setError(e);
    }
    await list.reload();
  };
  const parked = list.data?.parked ?? [];
  return (
    <div data-testid="parked">
      <h1>
        Parked subjects <span class="muted small">{list.data ? `${parked.length} in your tenant` : 'loading…'}</span>
      </h1>
      <div class="card inline">
        <DomainPicker domains={session.domains} value={domain} onChange={setDomain} />
        <button type="button" onClick={() => void list.reload()}>
          Refresh
        </button>
      </div>
      <ErrorBox error={error} title="The projector refused" />
      {result && (
        <div class="notice" data-testid="release-result">
          {result.action.kind} {result.action.subject.subjectType}/{result.action.subject.subjectId}:{' '}
          <code>{JSON.stringify(result.body)}</code>
        </div>
      )}
      {list.data && parked.length === 0 && <p class="muted">Nothing is parked.</p>}
      {parked.map((p) => (
        <section key={`${p.subjectType}/${p.subjectId}`} class="card" data-testid="parked-subject">
          <h3>
            <a href={`#/subjects/${domain}/${p.subjectType}/${encodeURIComponent(p.subjectId)}`}>
              {p.subjectType}/{p.subjectId}
            </a>
          </h3>
          <div>
            reason <strong data-testid="parked-reason">{p.reason}</strong> · parked {fmt.time(p.parkedAt)} · last
            applied sequence {p.lastAppliedSequence}
          </div>
          <table class="compact">
            <thead>
              <tr>
                <th>sequence</th>
                <th>event id</th>
                <th>reason</th>
                <th>where</th>
              </tr>
            </thead>
            <tbody>
              {p.events.map((e, i) => (
                <tr key={i}>
                  <td>{e.sequence ?? '—'}</td>
                  <td class="small">{e.eventId ?? '—'}</td>
                  <td>{e.reason}</td>
                  <td class="small">
                    {e.topic}[{e.partition}]@{e.offset}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="actions">
            <button type="button" onClick={() => setPending({ kind: 'retry', subject: p })} data-testid="retry">
              Retry…
            </button>
            <button
              type="button"
              class="danger"
              onClick={() => setPending({ kind: 'skip', subject: p })}
              data-testid="skip"
            >
              Skip…
            </button>
          </div>
        </section>
      ))}
      {pending && (
        <Confirm
          title={pending.kind === 'retry' ? 'Retry the parked events' : 'Skip past the parked position'}
          confirmLabel={pending.kind === 'retry' ? 'Retry' : 'Skip'}
          onConfirm={() => void run(pending)}
          onCancel={() => setPending(undefined)}
        >
          <p>
            {pending.kind === 'retry'
              ? 'Apply the parked events again in sequence order, through the same checks; a subject still at a gap parks again.'
              : 'Pass over the first parked event (or the missing sequences at a gap) and apply the rest. The skipped event is never applied.'}
          </p>
          <p>
            <code>
              {pending.subject.subjectType}/{pending.subject.subjectId}
            </code>{' '}
            — {pending.subject.reason}
          </p>
          <Json value={pending.subject.events.map((e) => ({ sequence: e.sequence, reason: e.reason }))} />
        </Confirm>
      )}
    </div>
  );
}
