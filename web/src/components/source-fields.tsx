import { get, q } from '../api';
import { useLoad } from '../hooks/use-load';
import type { PurchaseSource } from '../types';
import { ErrorNote, Loading } from './status';

/** Off-system allocations: where the money came from, and a note. */
export function SourceFields(props: {
  collectorId: string;
  source: string;
  comment: string;
  onSource: (id: string) => void;
  onComment: (c: string) => void;
  disabled?: boolean;
  invalid?: boolean;
}) {
  const [sources] = useLoad((signal) => get<PurchaseSource[]>(`/purchases/sources?collectorId=${q(props.collectorId)}&offSystem=true`, { signal }), [props.collectorId]);
  if (sources.state === 'loading') return <Loading />;
  if (sources.state === 'error') return <ErrorNote error={sources.error} />;
  return (
    <>
      <div className="field">
        <label htmlFor="purchase-source">Purchase source</label>
        <select
          id="purchase-source"
          value={props.source}
          disabled={props.disabled}
          aria-invalid={props.invalid || undefined}
          aria-describedby={props.invalid ? 'purchase-source-error' : undefined}
          onChange={(e) => props.onSource(e.target.value)}
        >
          <option value="">Choose where the money came from</option>
          {sources.data.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
        {props.invalid && (
          <p id="purchase-source-error" className="field-error">
            Choose where the money came from.
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor="offsystem-comment">Comment</label>
        <input id="offsystem-comment" type="text" maxLength={500} value={props.comment} disabled={props.disabled} onChange={(e) => props.onComment(e.target.value)} />
      </div>
    </>
  );
}
