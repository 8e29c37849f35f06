import { Link, navigate, useLocation } from '../router';
import { isStaff, setSession, type Session } from '../session';

/** Staff pages, and the addresses that belong to each (that link is marked as the current page). */
const STAFF_PAGES = [
  { to: '/app', label: 'Services', owns: (p: string) => p === '/app' || p.startsWith('/app/services/') },
  { to: '/app/billing', label: 'Billing', owns: (p: string) => p === '/app/billing' || p.startsWith('/app/billing/') },
  { to: '/app/arrears', label: 'Arrears', owns: (p: string) => p === '/app/arrears' },
];

export function Header({ session }: { session: Session | null }) {
  const { pathname } = useLocation();
  const signOut = () => {
    setSession(null);
    navigate('/app/sign-in', { replace: true });
  };
  const user = session?.user;
  const current = STAFF_PAGES.find((p) => p.owns(pathname))?.to;
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
      {isStaff(user) && (
        <nav className="container staff-nav" aria-label="Staff">
          <ul>
            {STAFF_PAGES.map((p) => (
              <li key={p.to}>
                <Link to={p.to} aria-current={p.to === current ? 'page' : undefined}>
                  {p.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
    </header>
  );
}
