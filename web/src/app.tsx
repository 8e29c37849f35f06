import { useEffect, useRef, type ReactNode } from 'react';
import { Header } from './components/header';
import { ArrearsPage } from './pages/arrears';
import { BillingPage } from './pages/billing';
import { BillingRunPage } from './pages/billing-run';
import { BuyElectricityPage } from './pages/buy-electricity';
import { BuyNowPage } from './pages/buy-now';
import { HomePage } from './pages/home';
import { NotFoundPage } from './pages/not-found';
import { PayNowPage } from './pages/pay-now';
import { PaymentResultPage } from './pages/payment-result';
import { ServicePage } from './pages/service';
import { SignInPage } from './pages/sign-in';
import { match, navigate, useLocation, type Location } from './router';
import { isStaff, useSession, type Session } from './session';

type Params = Record<string, string>;
interface Route {
  path: string;
  render: (p: Params, session: Session, loc: Location) => ReactNode;
  /** Integrators and admins only: anyone else finds nothing here. */
  staff?: boolean;
}

/** Which owing services the arrears list shows: `?status=Suspended`, or those in arrears. */
const owing = (loc: Location) => (loc.query.get('status') === 'Suspended' ? 'Suspended' : 'InArrears');

const routes: Route[] = [
  { path: '/app', render: (_, s) => <HomePage session={s} /> },
  { path: '/app/services/:id', render: (p, s, loc) => <ServicePage key={p.id} id={p.id!} session={s} backFromCardUpdate={loc.query.get('card') === 'returned'} captureId={loc.query.get('capture_id')} /> },
  { path: '/app/services/:id/pay', render: (p, s, loc) => <PayNowPage key={`${p.id}/${loc.query.get('purchaseId')}`} serviceId={p.id!} purchaseId={loc.query.get('purchaseId')} session={s} /> },
  { path: '/app/services/:id/buy', render: (p, s) => <BuyNowPage key={p.id} serviceId={p.id!} session={s} /> },
  { path: '/app/services/:id/electricity', render: (p, s) => <BuyElectricityPage key={p.id} serviceId={p.id!} session={s} /> },
  { path: '/app/ext-pay/:userId/:purchaseId/:result', render: (p) => <PaymentResultPage key={p.purchaseId} purchaseId={p.purchaseId!} /> },
  { path: '/app/billing', staff: true, render: () => <BillingPage /> },
  { path: '/app/billing/runs/:id', staff: true, render: (p) => <BillingRunPage key={p.id} id={p.id!} /> },
  { path: '/app/arrears', staff: true, render: (_, _s, loc) => <ArrearsPage key={owing(loc)} status={owing(loc)} /> },
];

export function App() {
  const loc = useLocation();
  const session = useSession();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  const signingIn = loc.pathname === '/app/sign-in';

  // Keyboard and screen-reader users land at the top of the new page, not on a link that is gone.
  useEffect(() => {
    if (first.current) first.current = false;
    else main.current?.focus();
    window.scrollTo(0, 0);
  }, [loc.pathname]);

  useEffect(() => {
    if (!session && !signingIn) {
      const from = loc.pathname + window.location.search;
      navigate('/app/sign-in', { replace: true, state: { from, message: loc.state?.message } });
    }
  }, [session, signingIn, loc.pathname, loc.state?.message]);

  let page: ReactNode = null;
  if (signingIn) page = <SignInPage loc={loc} session={session} />;
  else if (session) {
    for (const r of routes) {
      const params = match(r.path, loc.pathname);
      if (params && (!r.staff || isStaff(session.user))) {
        page = r.render(params, session, loc);
        break;
      }
    }
    page ??= <NotFoundPage />;
  }

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header session={session} />
      <main id="main" ref={main} tabIndex={-1} className="container">
        {page}
      </main>
    </>
  );
}
