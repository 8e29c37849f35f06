import { describeMedium } from '../mediums';
import type { Medium } from '../types';

/** "Pay with": one radio per medium, named by its account_name; the service's active medium carries a check. */
/** Who runs "Add new payment method", and whether the card becomes a monthly mandate. */
export type NewCards = { provider: string; mandate: boolean };

export function MediumPicker(props: { mediums: Medium[]; activeId: string | null; value: string; disabled: boolean; onChange: (id: string) => void; newCards?: NewCards | null }) {
  return (
    <fieldset className="mediums" disabled={props.disabled}>
      <legend>Pay with</legend>
      {props.mediums.map((m) => {
        const id = m.medium_detail_id.toLowerCase();
        const active = id === props.activeId;
        const checked = id === props.value;
        return (
          <div key={id} className={`medium-option${checked ? ' checked' : ''}`} data-testid={`medium-${id}`}>
            <input
              type="radio"
              name="medium"
              id={`medium-${id}`}
              value={id}
              checked={checked}
              aria-describedby={`medium-${id}-desc`}
              onChange={() => props.onChange(id)}
            />
            <label htmlFor={`medium-${id}`}>{m.account_name}</label>
            <span className="medium-desc" id={`medium-${id}-desc`}>
              {describeMedium(m, props.newCards ?? null)}
            </span>
            {active && (
              <span className="active-mark" title="Used for future payments on this service">
                <span role="img" aria-label="active medium">
                  ✓
                </span>{' '}
                Active
              </span>
            )}
          </div>
        );
      })}
    </fieldset>
  );
}
