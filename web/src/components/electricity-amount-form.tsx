import { useState, type FormEvent } from 'react';
import { parseRand } from '../buy-math';
import { money } from '../format';
import type { UtilityAmount } from '../types';

interface Props {
  va: UtilityAmount;
  busy: boolean;
  onChange: () => void;
  onQuote: (amount: number) => void;
}

/** What is wrong with the amount typed, in the customer's words; null when it can be bought. */
function problemOf(text: string, amount: number | null, va: UtilityAmount): string | null {
  if (text.trim() === '') return 'Enter how much electricity to buy, in rand.';
  if (amount === null) return 'Enter an amount in rand, like 100 or 150.50.';
  if (amount < va.min_amount) return `The least you can buy is ${money(va.min_amount)}.`;
  if (amount > va.max_amount) return `The most you can buy at once is ${money(va.max_amount)}.`;
  return null;
}

/** Prepaid electricity by amount: any rand amount from min to max (can_buy_info.variable_amount). */
export function ElectricityAmountForm({ va, busy, onChange, onQuote }: Props) {
  const [text, setText] = useState('');
  const [tried, setTried] = useState(false);
  const amount = parseRand(text);
  const problem = problemOf(text, amount, va);
  const showError = problem !== null && (tried || text.trim() !== '');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (problem === null && amount !== null && !busy) onQuote(amount);
  };

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="amount-h">
      <h2 id="amount-h">How much?</h2>
      <div className="field">
        <label htmlFor="amount">Amount (R)</label>
        <input
          id="amount"
          type="text"
          inputMode="decimal"
          autoComplete="off"
          value={text}
          className="short"
          aria-invalid={showError || undefined}
          aria-describedby="amount-hint"
          onChange={(e) => {
            setText(e.target.value);
            onChange();
          }}
        />
        <p id="amount-hint" className={showError ? 'field-error' : 'hint'}>
          {showError ? problem : `From ${money(va.min_amount)} to ${money(va.max_amount)}, VAT included.`}
        </p>
      </div>
      <button type="submit" className="button primary block" disabled={busy}>
        {busy ? 'Getting your quote…' : 'Continue to payment'}
      </button>
    </form>
  );
}
