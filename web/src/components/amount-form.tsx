import { useState, type FormEvent } from 'react';
import { amountLine, daysFor, parseRand, vatFor, type BuyLine } from '../buy-math';
import { date, money, periodEndAfter, plural } from '../format';
import type { VariableAmount } from '../types';

interface Props {
  va: VariableAmount;
  periodEnd: string | null;
  busy: boolean;
  onChange: () => void;
  onQuote: (line: BuyLine) => void;
}

/** Recurring months bought by amount: any amount from min to max buys whole days. */
export function AmountForm({ va, periodEnd, busy, onChange, onQuote }: Props) {
  const [text, setText] = useState(va.monthly_amount.toFixed(2));
  const [tried, setTried] = useState(false);
  const amount = parseRand(text);
  const valid = amount !== null && amount >= va.min_amount && amount <= va.max_amount;
  const days = valid ? daysFor(amount, va) * va.period_contribution_per_quantity : 0;
  const showError = !valid && (tried || text.trim() !== '');
  const range = `Enter an amount between ${money(va.min_amount)} and ${money(va.max_amount)}.`;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (valid && !busy) onQuote(amountLine(va, amount));
  };

  return (
    <form className="card form" onSubmit={submit} noValidate>
      <p>
        {va.description}: <span className="amount">{money(va.monthly_amount)}</span> a month. Spend any amount on extra days.
      </p>
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
          {showError ? range : `From ${money(va.min_amount)} to ${money(va.max_amount)}.`}
        </p>
      </div>
      <div className="live-total" aria-live="polite" data-testid="buy-preview">
        {valid ? (
          <>
            <p>
              <span className="amount">{money(amount)}</span> buys {plural(days, 'day')}
            </p>
            <p className="small">
              VAT included <span className="amount">{money(vatFor(amount, va))}</span> · paid until {date(periodEndAfter(periodEnd, days))}
            </p>
          </>
        ) : (
          <p>—</p>
        )}
      </div>
      <button type="submit" className="button primary block" disabled={busy}>
        {busy ? 'Getting quote…' : 'Get quote'}
      </button>
    </form>
  );
}
