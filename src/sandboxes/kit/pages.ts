/**
 * The sandboxes' hosted pages: small, real HTML forms a browser or a test fills in (SPEC §6). Field names
 * are the same on every sandbox: card_number, expiry (MM/YY), cvv, holder, save_card.
 */
const escape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export interface CardPage {
  /** The provider's name, shown in the header ("PayFast sandbox"). */
  provider: string;
  title: string;
  /** Lines shown above the form: merchant, item, amount. */
  summary: [label: string, value: string][];
  /** Where the form posts (absolute path). */
  action: string;
  /** Hidden fields carried through the post. */
  hidden?: Record<string, string>;
  /** Offer "Save this card" (a tokenising checkout); checked by default when `saveCardChecked`. */
  saveCard?: boolean;
  saveCardChecked?: boolean;
  /** A message above the form after a rejected submission. */
  error?: string | null;
  /** Where "Cancel" goes, if anywhere. */
  cancelUrl?: string | null;
  submitLabel?: string;
}

export function renderCardPage(page: CardPage): string {
  const hidden = Object.entries(page.hidden ?? {})
    .map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`)
    .join('\n      ');
  const summary = page.summary.map(([k, v]) => `<div class="row"><span>${escape(k)}</span><strong>${escape(v)}</strong></div>`).join('\n      ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(page.title)} · ${escape(page.provider)}</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; padding: 1rem; color: #1d2330; }
  main { max-width: 26rem; margin: 2rem auto; background: #fff; border-radius: 12px; padding: 1.5rem; box-shadow: 0 2px 8px rgba(0,0,0,.08); }
  header { font-size: .8rem; text-transform: uppercase; letter-spacing: .08em; color: #6b7280; }
  h1 { font-size: 1.3rem; margin: .3rem 0 1rem; }
  .row { display: flex; justify-content: space-between; padding: .25rem 0; }
  .error { background: #fde8e8; color: #9b1c1c; padding: .6rem .8rem; border-radius: 8px; margin: .8rem 0; }
  label { display: block; margin-top: .8rem; font-size: .9rem; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem; border: 1px solid #cbd0d8; border-radius: 8px; }
  .pair { display: flex; gap: .8rem; } .pair label { flex: 1; }
  .check { display: flex; gap: .5rem; align-items: center; }
  button { margin-top: 1.2rem; width: 100%; padding: .8rem; font-size: 1rem; border: 0; border-radius: 8px; background: #1a56db; color: #fff; cursor: pointer; }
  a.cancel { display: block; text-align: center; margin-top: .8rem; color: #6b7280; }
  .note { font-size: .75rem; color: #6b7280; margin-top: 1rem; }
</style>
</head>
<body>
<main>
  <header>${escape(page.provider)} · sandbox</header>
  <h1>${escape(page.title)}</h1>
  ${summary}
  ${page.error ? `<div class="error" role="alert">${escape(page.error)}</div>` : ''}
  <form method="post" action="${escape(page.action)}" autocomplete="off">
      ${hidden}
    <label>Card number<input type="text" name="card_number" inputmode="numeric" required autofocus></label>
    <div class="pair">
      <label>Expiry (MM/YY)<input type="text" name="expiry" placeholder="MM/YY" required></label>
      <label>CVV<input type="password" name="cvv" inputmode="numeric" required></label>
    </div>
    <label>Name on card<input type="text" name="holder" required></label>
    ${page.saveCard ? `<label class="check"><input type="checkbox" name="save_card" value="1"${page.saveCardChecked ? ' checked' : ''}> Save this card for later payments</label>` : ''}
    <button type="submit">${escape(page.submitLabel ?? 'Pay')}</button>
  </form>
  ${page.cancelUrl ? `<a class="cancel" href="${escape(page.cancelUrl)}">Cancel</a>` : ''}
  <p class="note">Sandbox: 4242 4242 4242 4242 approves; 4000 0000 0000 0002 declines; 4000 0000 0000 9995 has insufficient funds; 4000 0000 0000 0119 loses the answer; 4000 0000 0000 0259 is unavailable once; 4000 0000 0000 0077 is cancelled, then successful (Peach).</p>
</main>
</body>
</html>`;
}

/** A plain page after a hosted flow that has no return URL, or that went wrong. */
export function renderMessagePage(provider: string, title: string, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title></head><body style="font-family: system-ui, sans-serif; max-width: 26rem; margin: 3rem auto; padding: 1rem"><p style="color:#6b7280;font-size:.8rem;text-transform:uppercase">${escape(provider)} · sandbox</p><h1>${escape(title)}</h1><p>${escape(message)}</p></body></html>`;
}

/**
 * A page that makes the browser POST fields to a URL at once (how Peach returns the shopper to
 * shopperResultUrl, and how a hosted page "redirects" with a form post). Works without script too.
 */
export function renderAutoPostPage(url: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Returning to the merchant…</title></head><body onload="document.forms[0].submit()"><form method="post" action="${escape(url)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form></body></html>`;
}
