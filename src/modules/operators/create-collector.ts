import { randomUUID } from 'node:crypto';
import type { Actor, AppContext } from '../../context.ts';
import { ConflictError, NotFoundError } from '../../lib/errors.ts';
import { recordAudit } from '../audit/record.ts';
import { findCollector, insertCollector, insertPurchaseSource, type CollectorRow, type PurchaseSourceRow } from './repo.ts';

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
    if (input.id && (await findCollector(tx, operatorId, id))) throw new ConflictError('collector.exists', `A collector with id ${id} already exists.`);
    const collector = await insertCollector(tx, { id, operatorId, name: input.name });
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
  const source = await insertPurchaseSource(tx, {
    id: input.id?.toLowerCase() ?? randomUUID(),
    operatorId,
    collectorId,
    name: input.name,
    offSystem: input.offSystem ?? true,
  });
  if (!source) throw new ConflictError('purchase_source.exists', `The collector already has a purchase source named "${input.name}" (or one with that id).`);
  return source;
}
