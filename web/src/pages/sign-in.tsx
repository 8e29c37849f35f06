import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, EXPIRED_FLAG, get, messageOf, post, SESSION_EXPIRED } from '../api';
import { Alert, Loading, Notice } from '../components/status';
import { ROLE } from '../format';
import { useLoad } from '../hooks/use-load';
import { useTitle } from '../hooks/use-title';
import { navigate, type Location } from '../router';
import { setSession, type Session } from '../session';
import type { User } from '../types';

/** An operator's identity provider sends the browser to /app/sign-in#access_token=… */
function tokenFromFragment(): string | null {
  const hash = window.location.hash.replace(/^#/, '');
  return hash ? new URLSearchParams(hash).get('access_token') : null;
}

/** Only the app's own pages are places to return to after signing in. */
/** Whether the last session ended by expiring (read once: the flag is cleared). */
function expiredBefore(): boolean {
  try {
    const was = sessionStorage.getItem(EXPIRED_FLAG) === '1';
    sessionStorage.removeItem(EXPIRED_FLAG);
    return was;
  } catch {
    return false;
  }
}

const safeFrom = (from: string | undefined): string => (from && /^\/app(\/|$|\?)/.test(from) && !from.startsWith('/app/sign-in') ? from : '/app');

export function SignInPage({ loc, session }: { loc: Location; session: Session | null }) {
  useTitle('Sign in');
  const [fragmentToken, setFragmentToken] = useState(tokenFromFragment);
  const [message] = useState(() => loc.state?.message ?? (expiredBefore() ? SESSION_EXPIRED : undefined));
  const from = safeFrom(loc.state?.from);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const finish = (token: string, user: User) => {
    setSession({ token, user });
    navigate(from, { replace: true });
  };

  const tryToken = async (token: string) => {
    setBusy(true);
    setError(null);
    try {
      finish(token, await get<User>('/me', { auth: { token } }));
    } catch (err) {
      setError(err instanceof ApiError && (err.status === 401 || err.status === 403) ? 'That token was not accepted' : messageOf(err));
      setBusy(false);
    }
  };

  // Arriving from another page is a fresh load; a redirect to this very page only changes the fragment.
  useEffect(() => {
    const onHash = () => setFragmentToken(tokenFromFragment());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    if (!fragmentToken) {
      if (session) navigate(from, { replace: true });
      return;
    }
    // The token must not stay in the address bar or the history.
    history.replaceState(history.state, '', '/app/sign-in');
    void tryToken(fragmentToken);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [fragmentToken]);

  const [users, reload] = useLoad(
    (signal) =>
      get<{ items: User[] }>('/sandbox/sign-in', { auth: 'none', signal }).then(
        (r) => r.items,
        (err: unknown) => {
          if (err instanceof ApiError && err.status === 404) return null; // not sandbox mode: tokens come from the IdP
          throw err;
        },
      ),
    [],
  );

  const signInAs = async (user: User) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const { data } = await post<{ token: string; user: User }>('/sandbox/sign-in', { user_id: user.user_id }, { auth: 'none' });
      finish(data.token, data.user);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };

  return (
    <>
      <h1>Sign in</h1>
      {message && <Notice>{message}</Notice>}
      {error && <Alert>{error}</Alert>}
      {fragmentToken && busy && <Loading label="Signing you in…" />}
      {users.state === 'loading' && <Loading />}
      {users.state === 'error' && (
        <>
          <Alert>{messageOf(users.error)}</Alert>
          <button type="button" className="button secondary" onClick={reload}>
            Try again
          </button>
        </>
      )}
      {users.state === 'ready' && users.data && <UserPicker users={users.data} busy={busy} onPick={signInAs} />}
      {users.state === 'ready' && !users.data && <TokenForm busy={busy} onSubmit={tryToken} />}
    </>
  );
}

function UserPicker({ users, busy, onPick }: { users: User[]; busy: boolean; onPick: (u: User) => void }) {
  return (
    <>
      <p>Sandbox mode: choose a demo user.</p>
      <ul className="user-list">
        {users.map((u) => (
          <li key={u.user_id} className="card user-row">
            <div className="user-meta" id={`role-${u.user_id}`}>
              <span className={`badge badge-role-${u.role}`}>{ROLE[u.role] ?? u.role}</span>
              {u.operator_name && <span className="muted"> {u.operator_name}</span>}
            </div>
            <button type="button" className="button primary" disabled={busy} aria-describedby={`role-${u.user_id}`} onClick={() => onPick(u)}>
              Sign in as {u.name ?? u.user_id}
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

function TokenForm({ busy, onSubmit }: { busy: boolean; onSubmit: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [empty, setEmpty] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const t = token.trim().replace(/^Bearer\s+/i, '');
    setEmpty(!t);
    if (t && !busy) onSubmit(t);
  };
  return (
    <form className="card form" onSubmit={submit} noValidate>
      <p>Paste a bearer token from your identity provider</p>
      <div className="field">
        <label htmlFor="token">Bearer token</label>
        <textarea
          id="token"
          rows={5}
          spellCheck={false}
          autoComplete="off"
          value={token}
          aria-invalid={empty || undefined}
          aria-describedby={empty ? 'token-error' : undefined}
          onChange={(e) => setToken(e.target.value)}
        />
        {empty && (
          <p id="token-error" className="field-error">
            Paste a token first.
          </p>
        )}
      </div>
      <button type="submit" className="button primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
