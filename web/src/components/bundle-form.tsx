import { useState, type FormEvent } from 'react';
import { bundleLine, parseCount, type BuyLine } from '../buy-math';
import { date, money, periodEndAfter, plural } from '../format';
import type { BuyOption } from '../types';

interface Props {
  options: BuyOption[];
  periodEnd: string | null;
  busy: boolean;
  onChange: () => void;
  onQuote: (line: BuyLine) => void;
}

/** Day bundles: one option, 1 to max_quantity of it, and the total as you type. */
export function BundleForm({ options, periodEnd, busy, onChange, onQuote }: Props) {
  const [chosen, setChosen] = useState(options[0]!.product_price_id);
  const [qtyText, setQtyText] = useState('1');
  const [tried, setTried] = useState(false);
  const option = options.find((o) => o.product_price_id === chosen) ?? options[0]!;
  const qty = parseCount(qtyText);
  const valid = qty !== null && qty >= 1 && qty <= option.max_quantity;
  const days = valid ? qty * option.period_contribution_per_quantity : 0;
  const showError = !valid && (tried || qtyText.trim() !== '');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (valid && !busy) onQuote(bundleLine(option, qty));
  };

  return (
    <form className="card form" onSubmit={submit} noValidate>
      <fieldset className="options">
        <legend>Choose a bundle</legend>
        {options.map((o) => {
          const id = `option-${o.product_price_id}`;
          return (
            <div key={o.product_price_id} className={`medium-option${o.product_price_id === chosen ? ' checked' : ''}`}>
              <input
                type="radio"
                name="bundle"
                id={id}
                checked={o.product_price_id === chosen}
                aria-describedby={`${id}-price`}
                onChange={() => {
                  setChosen(o.product_price_id);
                  onChange();
                }}
              />
              <label htmlFor={id}>{o.description}</label>
              <span className="medium-desc" id={`${id}-price`}>
                <span className="amount">{money(o.total_amount)}</span> · {plural(o.period_contribution_per_quantity, 'day')}
              </span>
            </div>
          );
        })}
      </fieldset>
      <div className="field">
        <label htmlFor="quantity">Quantity</label>
        <input
          id="quantity"
          type="number"
          inputMode="numeric"
          min={1}
          max={option.max_quantity}
          step={1}
          value={qtyText}
          className="short"
          aria-invalid={showError || undefined}
          aria-describedby="quantity-hint"
          onChange={(e) => {
            setQtyText(e.target.value);
            onChange();
          }}
        />
        <p id="quantity-hint" className={showError ? 'field-error' : 'hint'}>
          {showError ? `Choose a quantity from 1 to ${option.max_quantity}.` : `Up to ${option.max_quantity}.`}
        </p>
      </div>
      <p className="live-total" aria-live="polite" data-testid="buy-total">
        {valid ? (
          <>
            Total <span className="amount">{money(qty * option.total_amount)}</span> for {plural(days, 'day')} · paid until {date(periodEndAfter(periodEnd, days))}
          </>
        ) : (
          'Total —'
        )}
      </p>
      <button type="submit" className="button primary block" disabled={busy}>
        {busy ? 'Getting quote…' : 'Get quote'}
      </button>
    </form>
  );
}
