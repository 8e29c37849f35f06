import { rand } from './merchant.ts';

/** The PayNow page: a card form, a bank-account form, or both (PayMethodType Both), as real HTML forms. */

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export const BANKS = ['ABSA', 'Capitec', 'FNB', 'Investec', 'Nedbank', 'Standard Bank', 'TymeBank', 'African Bank', 'Discovery Bank'] as const;
export const ACCOUNT_TYPES = ['Cheque', 'Savings', 'Transmission'] as const;

export interface PayNowPage {
  action: string;
  requestType: 'RealTimePayment' | 'UpdatePaymentDetail';
  methods: ('CreditCard' | 'BankAccount')[];
  amountCents: number | null;
  accountReferenceNo: string;
  /** Offer "Use this card as your preferred payment method for future payments". */
  offerSave: boolean;
  hideBranding: boolean;
  error?: string | null;
}

const cardFields = (offerSave: boolean) => `
    <label>Card number<input type="text" name="card_number" inputmode="numeric" autocomplete="off"></label>
    <div class="pair"><label>Expiry (MM/YY)<input type="text" name="expiry" placeholder="MM/YY"></label><label>CVV<input type="password" name="cvv" inputmode="numeric"></label></div>
    <label>Name on card<input type="text" name="holder"></label>
    ${offerSave ? '<label class="check"><input type="checkbox" name="save_card" value="1"> Use this card as your preferred payment method for future payments</label>' : ''}`;

const bankFields = () => `
    <label>Account holder<input type="text" name="account_holder"></label>
    <label>Bank<select name="bank">${BANKS.map((b) => `<option>${escape(b)}</option>`).join('')}</select></label>
    <label>Branch code<input type="text" name="branch_code" inputmode="numeric"></label>
    <label>Account number<input type="text" name="account_number" inputmode="numeric" autocomplete="off"></label>
    <label>Account type<select name="account_type">${ACCOUNT_TYPES.map((t) => `<option>${t}</option>`).join('')}</select></label>`;

export function renderPayNow(p: PayNowPage): string {
  const both = p.methods.length > 1;
  const sections = p.methods
    .map((m) => {
      const radio = both ? `<label class="check"><input type="radio" name="pay_method" value="${m}"${m === 'CreditCard' ? ' checked' : ''}> ${m === 'CreditCard' ? 'Credit or debit card' : 'Bank account'}</label>` : `<input type="hidden" name="pay_method" value="${m}">`;
      return `<fieldset>${radio}${m === 'CreditCard' ? cardFields(p.offerSave) : bankFields()}</fieldset>`;
    })
    .join('\n');
  const title = p.requestType === 'RealTimePayment' ? `Pay $${rand(p.amountCents ?? 0)}` : 'Update payment details';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · Debitsuccess PayNow</title>
<style>body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:1rem;color:#1d2330}main{max-width:28rem;margin:2rem auto;background:#fff;border-radius:12px;padding:1.5rem}
label{display:block;margin-top:.8rem}input[type=text],input[type=password],select{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem}.pair{display:flex;gap:.8rem}.pair label{flex:1}
.check{display:flex;gap:.5rem;align-items:center}fieldset{border:1px solid #cbd0d8;border-radius:8px;margin-top:1rem}.error{background:#fde8e8;color:#9b1c1c;padding:.6rem}button{margin-top:1.2rem;width:100%;padding:.8rem;font-size:1rem}.note{font-size:.75rem;color:#6b7280}</style></head>
<body><main>
  ${p.hideBranding ? '' : '<header>Debitsuccess PayNow · sandbox</header>'}
  <h1>${escape(title)}</h1>
  <p>Account ${escape(p.accountReferenceNo)}</p>
  ${p.error ? `<div class="error" role="alert">${escape(p.error)}</div>` : ''}
  <form method="post" action="${escape(p.action)}" autocomplete="off">
${sections}
    <button type="submit">${p.requestType === 'RealTimePayment' ? 'Pay now' : 'Save'}</button>
  </form>
  <p class="note">Sandbox: card 4444 3333 2222 1111, expiry 04/25, holder AUTHORISED or REFUSED. Bank accounts 1234567890 clears, 1111111111 fails, 2222222222 clears then is returned, 3333333333 fails validation, 4444444444 cannot be loaded.</p>
  ${p.hideBranding ? '' : '<footer class="note">Debitsuccess contact centre: 0800 000 000 (sandbox)</footer>'}
</main></body></html>`;
}
