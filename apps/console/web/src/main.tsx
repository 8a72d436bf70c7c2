import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiFailure, tokenClaims, tokenStore, type Session } from './api';
import { ErrorBox } from './components';
import { AuditPage } from './pages/audit';
import { OverviewPage } from './pages/overview';
import { ParkedPage } from './pages/parked';
import { ReplayPage } from './pages/replay';
import { SubjectsPage } from './pages/subjects';

/** `#/page/arg/arg`: pages are addressed by the URL's fragment, so the server serves one index.html. */
function useRoute(): string[] {
  const parse = () =>
    location.hash
      .replace(/^#\/?/, '')
      .split('/')
      .filter(Boolean)
      .map((p) => decodeURIComponent(p));
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const onChange = () => setRoute(parse());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

const PAGES = [
  { id: 'overview', label: 'Overview', admin: false },
  { id: 'subjects', label: 'Subjects', admin: false },
  { id: 'projections', label: 'Projections & replay', admin: true },
  { id: 'parked', label: 'Parked', admin: true },
  { id: 'audit', label: 'Audit log', admin: true },
];

function Login({ onSession, error }: { onSession: (s: Session) => void; error?: unknown }) {
  const [token, setToken] = useState('');
  const [failure, setFailure] = useState<unknown>(error);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    tokenStore.set(token.trim().replace(/^Bearer\s+/i, ''));
    try {
      onSession(await api.console<Session>('/api/session'));
    } catch (err) {
      tokenStore.clear();
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1>Event Spine console</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label for="token">Bearer token</label>
        <textarea
          id="token"
          name="token"
          rows={5}
          placeholder="Paste a JWT (npm run up prints a development admin token: export TOKEN=…)"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy || !token.trim()}>
          Sign in
        </button>
      </form>
      <ErrorBox error={failure} title="Sign-in refused" />
      <p class="muted small">
        More tokens: <code>npm run dev-token -- --tenant t2 --roles ''</code> (a reader) or <code>--roles admin</code>.
        The token stays in this tab only.
      </p>
    </main>
  );
}

function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [checking, setChecking] = useState(Boolean(tokenStore.get()));
  const [sessionError, setSessionError] = useState<unknown>(undefined);

  useEffect(() => {
    if (!tokenStore.get()) return;
    api
      .console<Session>('/api/session')
      .then(setSession, (e: unknown) => {
        tokenStore.clear();
        if (e instanceof ApiFailure) setSessionError(e);
      })
      .finally(() => setChecking(false));
  }, []);

  if (checking) return <main class="login muted">Checking your token…</main>;
  if (!session) return <Login onSession={setSession} error={sessionError} />;

  const page = route[0] ?? 'overview';
  const signOut = () => {
    tokenStore.clear();
    setSession(undefined);
    location.hash = '#/overview';
  };
  const claims = tokenClaims(tokenStore.get() ?? '');
  const expires = typeof claims?.exp === 'number' ? new Date(claims.exp * 1000).toISOString().slice(0, 16) : '';
  return (
    <div class="shell">
      <header>
        <a class="brand" href="#/overview">
          Event Spine
        </a>
        <nav>
          {PAGES.filter((p) => session.admin || !p.admin).map((p) => (
            <a key={p.id} href={`#/${p.id}`} class={page === p.id ? 'active' : ''}>
              {p.label}
            </a>
          ))}
        </nav>
        <div class="who" data-testid="who">
          <span>{session.principal.actorId}</span> · tenant <strong>{session.principal.tenantId}</strong> ·{' '}
          {session.admin ? 'admin' : 'reader'}
          {expires && <span class="muted small"> · until {expires}Z</span>}
          <button type="button" class="link" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        {page === 'overview' && <OverviewPage />}
        {page === 'subjects' && <SubjectsPage session={session} route={route.slice(1)} />}
        {page === 'projections' && <ReplayPage session={session} />}
        {page === 'parked' && <ParkedPage session={session} />}
        {page === 'audit' && <AuditPage session={session} />}
        {!PAGES.some((p) => p.id === page) && (
          <ErrorBox error={new ApiFailure(404, 'PAGE_NOT_FOUND', `There is no page ${page}`, undefined)} />
        )}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
