import { formatRand } from '../kit/kit.ts';
import { CATEGORY_LABELS, FREQUENCY_LABELS, type RecurringRequest } from './recurring-request.ts';

/**
 * The customer's payment page on the `pay` host: what is bought, the mandate being agreed to, and a card form
 * (`card_number`, `expiry` MM/YY, `cvv`, `holder`) with Pay and Cancel. A real HTML form any browser can fill.
 */
const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export interface PayPage {
  action: string;
  request: RecurringRequest;
  validFrom: string;
  error?: string | null;
}

function mandateLines(r: RecurringRequest): string[] {
  const m = r.recurring;
  const lines = [`${CATEGORY_LABELS[m.category]}, ${FREQUENCY_LABELS[m.frequency]}${m.regularPaymentDay !== null ? ` (day ${m.regularPaymentDay})` : ''}`];
  if (m.amountCents !== null) lines.push(`Each payment: R${formatRand(m.amountCents)}`);
  if (m.amountLimitCents !== null) lines.push(`At most: R${formatRand(m.amountLimitCents)}`);
  if (m.firstPaymentDate) lines.push(`First payment: ${m.firstPaymentDate}`);
  if (m.lastPaymentDate) lines.push(`Last payment: ${m.lastPaymentDate}`);
  if (m.numberOfInstallments !== null) lines.push(`Instalments: ${m.numberOfInstallments}`);
  return lines;
}

export function renderPayPage(p: PayPage): string {
  const r = p.request;
  const dark = r.styling.theme === 'dark';
  const basket = r.basket.map((l) => `<tr><td>${escape(l.description)}</td><td>${l.quantity}</td><td>R${formatRand(l.quantity * (l.amountExVAT + l.amountVAT))}</td></tr>`).join('');
  const validity = r.recurring.validityMonths > 0 ? `<p class="note">Your card must stay valid for at least ${r.recurring.validityMonths} month(s) from ${escape(p.validFrom)}.</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pay R${formatRand(r.amountCents)} · VodaPay</title>
<style>body{font-family:system-ui,sans-serif;margin:0;padding:1rem;background:${dark ? '#1d2330;color:#f4f5f7' : '#f4f5f7;color:#1d2330'}}main{max-width:26rem;margin:2rem auto;background:${dark ? '#2b3242' : '#fff'};border-radius:12px;padding:1.5rem}
header{font-size:.8rem;text-transform:uppercase;letter-spacing:.08em;color:#e60000}table{width:100%;border-collapse:collapse;font-size:.9rem}td{padding:.2rem 0}td:last-child{text-align:right}
label{display:block;margin-top:.8rem}input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem}.pair{display:flex;gap:.8rem}.pair label{flex:1}
.error{background:#fde8e8;color:#9b1c1c;padding:.6rem .8rem;border-radius:8px;margin:.8rem 0}.buttons{display:flex;gap:.8rem;margin-top:1.2rem}button{flex:1;padding:.8rem;font-size:1rem;border:0;border-radius:8px;cursor:pointer}
button[value=pay]{background:#e60000;color:#fff}.note{font-size:.75rem;color:#6b7280}</style></head>
<body><main>
  <header>VodaPay Gateway · sandbox</header>
  <h1>Pay R${formatRand(r.amountCents)}</h1>
  <table>${basket}</table>
  <h2 style="font-size:1rem">Recurring payments</h2>
  <ul>${mandateLines(r).map((l) => `<li>${escape(l)}</li>`).join('')}</ul>
  ${validity}
  ${p.error ? `<div class="error" role="alert">${escape(p.error)}</div>` : ''}
  <form method="post" action="${escape(p.action)}" autocomplete="off">
    <label>Card number<input type="text" name="card_number" inputmode="numeric" required autofocus></label>
    <div class="pair"><label>Expiry (MM/YY)<input type="text" name="expiry" placeholder="MM/YY" required></label><label>CVV<input type="password" name="cvv" inputmode="numeric" required></label></div>
    <label>Name on card<input type="text" name="holder" required></label>
    <div class="buttons"><button type="submit" name="action" value="pay">Pay</button><button type="submit" name="action" value="cancel" formnovalidate>Cancel</button></div>
  </form>
  <p class="note">Sandbox: 4242 4242 4242 4242 approves; 4000 0000 0000 0002 is declined (05); 4000 0000 0000 9995 has insufficient funds (51); 4000 0000 0000 0259 is unavailable once (91); 4000 0000 0000 0010 is approved for half (10); 4000 0000 0000 0119 loses the answer of its later API charges.</p>
</main></body></html>`;
}
