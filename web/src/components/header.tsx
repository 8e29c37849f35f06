import { Link, navigate } from '../router';
import { setSession, type Session } from '../session';

export function Header({ session }: { session: Session | null }) {
  const signOut = () => {
    setSession(null);
    navigate('/app/sign-in', { replace: true });
  };
  const user = session?.user;
  return (
    <header className="topbar">
      <div className="container topbar-inner">
        {session ? (
          <Link to="/app" className="brand">
            {user?.operator_name || 'payrail'}
          </Link>
        ) : (
          <span className="brand">payrail</span>
        )}
        {session && (
          <div className="who">
            <span className="who-name">{user?.name ?? 'Signed in'}</span>
            <button type="button" className="button ghost small" onClick={signOut}>
              Sign out
            </button>
          </div>
        )}
      </div>
    </header>
  );
}
