import { checkCardForm } from '../kit/cards.ts';
import { ACCOUNT_TYPES, BANKS } from './page.ts';

/**
 * What the PayNow form's fields say: a card (its test outcome and last digits) or a bank account (its
 * sandbox outcome and last digits), or what to correct. Never the whole number beyond this function.
 */
export type CardResult = 'approve' | 'decline' | 'insufficient_funds' | 'unavailable';
export type BankResult = 'clears' | 'fails' | 'returns' | 'invalid' | 'load_fails';

export type Detail =
  /** `refused`: Debitsuccess's test card with holder REFUSED, refused when captured as well as when paid. */
  | { kind: 'CreditCard'; result: CardResult; refused: boolean; last4: string; expiry: string; holder: string }
  | { kind: 'BankAccount'; result: BankResult; last4: string; holder: string; bank: string; branchCode: string; accountType: string };

export type Checked = { ok: true; detail: Detail } | { ok: false; message: string };

/** Debitsuccess's own test card: its expiry is in the past, and it is accepted anyway. */
const DS_TEST_CARD = '4444333322221111';

export function checkCard(form: Record<string, string>, now: Date): Checked {
  const number = (form.card_number ?? '').replace(/[\s-]/g, '');
  const holder = (form.holder ?? '').trim();
  const expiry = (form.expiry ?? '').replace(/\s/g, '');
  if (number === DS_TEST_CARD) {
    if (expiry !== '04/25') return { ok: false, message: 'The test card’s expiry is 04/25.' };
    if (!/^[0-9]{3,4}$/.test((form.cvv ?? '').trim())) return { ok: false, message: 'Enter the 3 or 4 digit security code.' };
    const upper = holder.toUpperCase();
    if (upper !== 'AUTHORISED' && upper !== 'REFUSED') return { ok: false, message: 'The test card’s holder is AUTHORISED or REFUSED.' };
    return { ok: true, detail: { kind: 'CreditCard', result: upper === 'AUTHORISED' ? 'approve' : 'decline', refused: upper === 'REFUSED', last4: number.slice(-4), expiry, holder } };
  }
  const check = checkCardForm(form, now);
  if (!check.ok) return { ok: false, message: check.message };
  const o = check.card.outcome;
  const result: CardResult = o === 'decline' || o === 'insufficient_funds' ? o : o === 'unavailable_once' ? 'unavailable' : 'approve';
  return { ok: true, detail: { kind: 'CreditCard', result, refused: false, last4: check.card.last4, expiry: expiry, holder: check.card.holder } };
}

const BANK_ACCOUNTS: Readonly<Record<string, BankResult>> = {
  '1234567890': 'clears',
  '1111111111': 'fails',
  '2222222222': 'returns',
  '3333333333': 'invalid',
  '4444444444': 'load_fails',
};

export function checkBank(form: Record<string, string>): Checked {
  const holder = (form.account_holder ?? '').trim();
  const bank = (form.bank ?? '').trim();
  const branchCode = (form.branch_code ?? '').trim();
  const number = (form.account_number ?? '').replace(/[\s-]/g, '');
  const accountType = (form.account_type ?? '').trim();
  if (holder === '' || holder.length > 100) return { ok: false, message: 'Enter the account holder’s name.' };
  if (!(BANKS as readonly string[]).includes(bank)) return { ok: false, message: 'Choose the bank.' };
  if (!/^[0-9]{6}$/.test(branchCode)) return { ok: false, message: 'Enter the 6-digit branch code.' };
  if (!/^[0-9]{6,11}$/.test(number)) return { ok: false, message: 'Enter the account number (6 to 11 digits).' };
  if (!(ACCOUNT_TYPES as readonly string[]).includes(accountType)) return { ok: false, message: 'Choose the account type.' };
  return { ok: true, detail: { kind: 'BankAccount', result: BANK_ACCOUNTS[number] ?? 'clears', last4: number.slice(-4), holder, bank, branchCode, accountType } };
}
