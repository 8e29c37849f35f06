/**
 * The sandboxes' test cards (SPEC §6). A card's number decides what happens when it is charged; a
 * tokenised card keeps that outcome, so a stored token behaves like the card it was made from.
 */
export type CardOutcome = 'approve' | 'decline' | 'insufficient_funds' | 'lost_response' | 'unavailable_once' | 'cancel_then_success';

export const TEST_CARDS: Readonly<Record<string, CardOutcome>> = {
  '4242424242424242': 'approve',
  '4000000000000002': 'decline',
  '4000000000009995': 'insufficient_funds',
  '4000000000000119': 'lost_response',
  '4000000000000259': 'unavailable_once',
  // Peach: the checkout ends "cancelled by user", then Peach reports it successful. Sandboxes without such
  // a late change approve it.
  '4000000000000077': 'cancel_then_success',
  // Peach Payments' published test cards.
  '4200000000000091': 'approve',
  '5200000000000007': 'approve',
};

export interface CardEntry {
  number: string;
  expiryMonth: number;
  expiryYear: number;
  cvv: string;
  holder: string;
}

export interface AcceptedCard {
  outcome: CardOutcome;
  bin: string;
  last4: string;
  expiryMonth: number;
  expiryYear: number;
  holder: string;
}

export type CardCheck = { ok: true; card: AcceptedCard } | { ok: false; field: keyof RawCardForm; message: string };

export interface RawCardForm {
  card_number?: string;
  expiry?: string;
  cvv?: string;
  holder?: string;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * Checks a hosted page's card form the way a card page does: a Luhn-valid number, an expiry MM/YY not
 * in the past, a 3–4 digit CVV and a name. Any valid number that is not a listed test card approves.
 */
export function checkCardForm(form: RawCardForm, now: Date): CardCheck {
  const number = (form.card_number ?? '').replace(/[\s-]/g, '');
  if (!/^[0-9]{12,19}$/.test(number) || !luhnValid(number)) return { ok: false, field: 'card_number', message: 'Enter a valid card number.' };
  const expiry = /^(0[1-9]|1[0-2])\s*\/\s*([0-9]{2})$/.exec((form.expiry ?? '').trim());
  if (!expiry) return { ok: false, field: 'expiry', message: 'Enter the expiry date as MM/YY.' };
  const expiryMonth = Number(expiry[1]);
  const expiryYear = 2000 + Number(expiry[2]);
  const thisMonth = now.getUTCFullYear() * 12 + now.getUTCMonth() + 1;
  if (expiryYear * 12 + expiryMonth < thisMonth) return { ok: false, field: 'expiry', message: 'This card has expired.' };
  if (!/^[0-9]{3,4}$/.test((form.cvv ?? '').trim())) return { ok: false, field: 'cvv', message: 'Enter the 3 or 4 digit security code.' };
  const holder = (form.holder ?? '').trim();
  if (holder.length === 0 || holder.length > 100) return { ok: false, field: 'holder', message: 'Enter the name on the card.' };
  return {
    ok: true,
    card: { outcome: TEST_CARDS[number] ?? 'approve', bin: number.slice(0, 6), last4: number.slice(-4), expiryMonth, expiryYear, holder },
  };
}

/** The `sandbox.tokens` row a tokenised card becomes: its test outcome and last digits, never its number. */
export function tokenRowOf(card: AcceptedCard, token: { value: string; provider: string; notifyUrl: string | null; now: Date }) {
  return {
    token: token.value,
    provider: token.provider,
    outcome: card.outcome,
    cardBin: card.bin,
    cardLast4: card.last4,
    expiryMonth: card.expiryMonth,
    expiryYear: card.expiryYear,
    holder: card.holder,
    notifyUrl: token.notifyUrl,
    createdAt: token.now,
    updatedAt: token.now,
  };
}
