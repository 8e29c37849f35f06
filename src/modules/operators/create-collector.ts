import { randomUUID } from 'node:crypto';
import type { Actor, AppContext } from '../../context.ts';
import { ConflictError, IdTakenError, NotFoundError } from '../../lib/errors.ts';
import { recordAudit } from '../audit/record.ts';
import { findCollector, insertCollector, insertPurchaseSource, purchaseSourceNamed, type CollectorRow, type PurchaseSourceRow } from './repo.ts';

export interface NewPurchaseSource {
  id?: string;
  name: string;
  offSystem?: boolean;
}

/** A collector with its purchase sources, all at once. */
export async function createCollector(
  ctx: Pick<AppContext, 'database'>,
  operatorId: string,
  actor: Actor,
  input: { id?: string; name: string; purchaseSources?: NewPurchaseSource[] },
): Promise<{ collector: CollectorRow; sources: PurchaseSourceRow[] }> {
  return ctx.database.db.transaction(async (tx) => {
    const id = input.id?.toLowerCase() ?? randomUUID();
    const collector = await insertCollector(tx, { id, operatorId, name: input.name });
    if (!collector) throw new IdTakenError('collector', id);
    const sources: PurchaseSourceRow[] = [];
    for (const source of input.purchaseSources ?? []) sources.push(await addSource(tx, operatorId, collector.id, source));
    await recordAudit(tx, actor, { operatorId, entityType: 'collector', entityId: id, action: 'collector.created' });
    return { collector, sources };
  });
}

/** Add a purchase source to a collector; names are unique per collector. */
export async function createPurchaseSource(
  ctx: Pick<AppContext, 'database'>,
  operatorId: string,
  actor: Actor,
  collectorId: string,
  input: NewPurchaseSource,
): Promise<PurchaseSourceRow> {
  return ctx.database.db.transaction(async (tx) => {
    if (!(await findCollector(tx, operatorId, collectorId))) throw new NotFoundError('collector', collectorId);
    const source = await addSource(tx, operatorId, collectorId, input);
    await recordAudit(tx, actor, { operatorId, entityType: 'purchase_source', entityId: source.id, action: 'purchase_source.created', data: { name: source.name } });
    return source;
  });
}

async function addSource(tx: Parameters<typeof insertPurchaseSource>[0], operatorId: string, collectorId: string, input: NewPurchaseSource) {
  const id = input.id?.toLowerCase() ?? randomUUID();
  const source = await insertPurchaseSource(tx, { id, operatorId, collectorId, name: input.name, offSystem: input.offSystem ?? true });
  if (source) return source;
  // Which rule it broke: the name is looked for in this collector only; anything else is the id.
  if (await purchaseSourceNamed(tx, collectorId, input.name)) throw new ConflictError('purchase_source.exists', `The collector already has a purchase source named "${input.name}".`);
  throw new IdTakenError('purchase_source', id);
}
