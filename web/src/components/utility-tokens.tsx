import { useRef, useState } from 'react';
import { kwh, money, tokenDigits } from '../format';
import { messageOf, q, request } from '../api';
import type { TokensWatch } from '../hooks/use-purchase-tokens';
import type { PurchaseTokens, VendToken } from '../types';
import { Alert, ErrorNote, Loading, Notice } from './status';

/** Token types as a customer reads them (the vendor's STD, BSST, KC …). */
const TOKEN_TYPE: Record<string, string> = {
  STD: 'Electricity token',
  BSST: 'Free basic electricity token',
  KC: 'Key change token: enter it before the others',
  REFUND: 'Refund token',
  PWRLMT: 'Power limit token',
};

/**
 * A prepaid-electricity purchase's tokens: each one large, copyable, with its kWh and receipt number;
 * "Vending…" while the vendor is being asked; what happens to the money when the vend was declined.
 * `compact` is the payment history's version (no heading of its own, no live region per row).
 */
export function UtilityTokens({ watch, amount, compact = false }: { watch: TokensWatch; amount: number; compact?: boolean }) {
  const { data, error, gaveUp, checkAgain } = watch;
  let body;
  if (!data) body = error ? <ErrorNote error={error} /> : <Loading label="Loading your token…" />;
  else if (data.status === 'not_paid') body = <p className="muted small">The token is issued once this purchase is paid.</p>;
  else if (data.status === 'vending')
    body = gaveUp ? (
      <Notice>
        Your token is still being worked on with the electricity vendor. It will appear here, and in this service’s payment history, as soon as it is ready; you
        will not be charged again.{' '}
        <button type="button" className="button secondary small" onClick={checkAgain}>
          Check again
        </button>
      </Notice>
    ) : (
      <Notice>
        <span className="spinner" aria-hidden="true" /> Vending… Your token is on its way from the electricity vendor.
      </Notice>
    );
  else if (data.status === 'failed') body = <Alert>{failedMessage(data, amount)}</Alert>;
  else if (data.tokens.length === 0) body = <p className="muted small">No token was issued for this purchase.</p>;
  else
    body = (
      <>
        <ul className="tokens-list">
          {data.tokens.map((t, i) => (
            <TokenItem key={`${t.token}-${i}`} token={t} />
          ))}
        </ul>
        {!compact && <Reprint purchaseId={data.purchase_id} tokens={data.tokens} />}
      </>
    );
  return (
    <div className={`tokens${compact ? ' tokens-compact' : ''}`} aria-live={compact ? undefined : 'polite'} data-testid="utility-tokens" data-status={data?.status ?? 'loading'}>
      {body}
    </div>
  );
}

/**
 * The vendor's reprint of the tokens (never a new purchase): for a customer whose receipt is lost, or who
 * wants to be sure the token shown is the one the vendor issued.
 */
function Reprint({ purchaseId, tokens }: { purchaseId: string; tokens: VendToken[] }) {
  const [state, setState] = useState<'idle' | 'busy' | 'same' | 'different' | { error: string }>('idle');
  const reprint = async () => {
    if (state === 'busy') return;
    setState('busy');
    try {
      const { data } = await request<PurchaseTokens>('POST', `/purchases/${q(purchaseId)}/tokens/reprint`);
      const same = data.tokens.every((t) => tokens.some((k) => k.token === t.token));
      setState(same ? 'same' : 'different');
    } catch (err) {
      setState({ error: messageOf(err) });
    }
  };
  return (
    <div className="reprint">
      <button type="button" className="button secondary small" onClick={reprint} disabled={state === 'busy'}>
        {state === 'busy' ? 'Asking the vendor…' : 'Reprint from the vendor'}
      </button>
      {state === 'same' && <span className="muted small" role="status"> The vendor confirmed this token.</span>}
      {state === 'different' && <Alert>The vendor’s reprint differs from the token shown here: please contact your provider before entering it.</Alert>}
      {typeof state === 'object' && <Alert>{state.error}</Alert>}
    </div>
  );
}

/** The declined vend, and where the money is: being refunded, refunded, or to be paid back by hand. */
export function failedMessage(t: PurchaseTokens, amount: number): string {
  const paid = money(t.refund?.amount ?? amount);
  const first = 'The electricity could not be bought: the electricity vendor did not accept this purchase, so no token was issued.';
  switch (t.refund?.status) {
    case 'succeeded':
      return `${first} Your payment of ${paid} has been refunded.`;
    case 'pending':
    case 'unknown':
      return `${first} Your payment of ${paid} is being refunded; it can take a few days to show on your statement.`;
    case 'manual':
      return `${first} Your payment of ${paid} will be paid back to you by your provider.`;
    case 'failed':
      return `${first} Refunding your payment of ${paid} did not go through automatically; your provider will pay it back. Please contact them if you do not hear from them.`;
    default:
      return `${first} Please contact your provider about your payment of ${paid}.`;
  }
}

function TokenItem({ token }: { token: VendToken }) {
  return (
    <li className="token-item">
      <p className="token-type">
        {TOKEN_TYPE[token.token_type] ?? token.token_type}
      </p>
      <p className="token" data-testid="token">
        {token.token}
      </p>
      <CopyButton text={tokenDigits(token.token)} />
      <dl className="facts token-facts">
        <div>
          <dt>Units</dt>
          <dd data-testid="token-units">{kwh(token.units)}</dd>
        </div>
        {token.amount !== null && (
          <div>
            <dt>Amount</dt>
            <dd className="amount">{money(token.amount)}</dd>
          </div>
        )}
        <div>
          <dt>Receipt number</dt>
          <dd className="mono">{token.receipt_number ?? '—'}</dd>
        </div>
      </dl>
    </li>
  );
}

/** Copies the 20 digits: the clipboard API where the browser allows it, else the older copy command. */
function CopyButton({ text }: { text: string }) {
  const [said, setSaid] = useState('');
  const button = useRef<HTMLButtonElement>(null);
  const copy = async () => {
    let ok = false;
    if (navigator.clipboard?.writeText) {
      try {
        await navigator.clipboard.writeText(text);
        ok = true;
      } catch {
        ok = false;
      }
    }
    if (!ok) ok = legacyCopy(text);
    button.current?.focus();
    setSaid(ok ? 'Copied' : 'Could not copy: select the token and copy it yourself.');
  };
  return (
    <p className="copy-row">
      <button type="button" ref={button} className="button secondary small" onClick={() => void copy()}>
        Copy token
      </button>{' '}
      <span role="status" className="small muted">
        {said}
      </span>
    </p>
  );
}

/** Without the clipboard API (an insecure context, a refused permission): a hidden text area and execCommand. */
function legacyCopy(text: string): boolean {
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.setAttribute('aria-hidden', 'true');
  area.className = 'copy-buffer';
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}
