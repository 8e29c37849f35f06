import { eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { deliverNotification, storeNotification, type SandboxContext, type StoredNotice } from '../kit/kit.ts';
import { sandboxNotifications } from '../kit/schema.ts';
import type { VodaPayBehaviour } from './behaviour.ts';
import { PROVIDER, signVodaPayNotification, transmissionDateTime, VODAPAY_SANDBOX_MERCHANT } from './merchant.ts';

/**
 * The server-to-server notification (VodaPay publishes none: ours, README.md "Notification"): a JSON POST to
 * the request's notificationUrl, signed `x-vodapay-signature` with the api-key. Stored in the transaction that
 * makes the charge it reports, delivered once that has committed, retried until a 2xx.
 */
export interface NoticeBody {
  traceId: string;
  transactionId: string;
  sessionId: string;
  echoData: string | null;
  responseCode: string;
  responseMessage: string;
  /** Cents actually approved (0 unless 00 or 10). */
  amount: number;
  paymentToken?: string;
  card?: { bin: string; last4: string; expiryMonth: number; expiryYear: number };
  transmissionDateTime: string;
  retrievalReferenceNumber: string | null;
  kind: 'Recurring' | 'SubmitRecurring';
}

/** The body in its fixed field order, with the time filled in. */
export function noticeBody(fields: Omit<NoticeBody, 'transmissionDateTime'>, now: Date): string {
  const { traceId, transactionId, sessionId, echoData, responseCode, responseMessage, amount, paymentToken, card, retrievalReferenceNumber, kind } = fields;
  const body: NoticeBody = {
    traceId, transactionId, sessionId, echoData, responseCode, responseMessage, amount,
    ...(paymentToken ? { paymentToken } : {}),
    ...(card ? { card } : {}),
    transmissionDateTime: transmissionDateTime(now, 'initiate'),
    retrievalReferenceNumber, kind,
  };
  return JSON.stringify(body);
}

/** Stores a notification with `tx`; with `notifications: drop` it is stored as given up, never to be sent. */
export async function storeNotice(tx: Executor, url: string, body: string, behaviour: VodaPayBehaviour): Promise<StoredNotice | null> {
  const stored = await storeNotification(
    tx,
    { provider: PROVIDER, url, contentType: 'application/json', body, headers: { 'x-vodapay-signature': signVodaPayNotification(body, VODAPAY_SANDBOX_MERCHANT.apiKey) } },
    { delayMs: behaviour.notification_delay_ms },
  );
  if (behaviour.notifications === 'send') return stored;
  // Five attempts is what the kit gives a notice: marked as spent, a restart does not resume it either.
  await tx.update(sandboxNotifications).set({ attempts: 5 }).where(eq(sandboxNotifications.id, stored.id));
  return null;
}

export function deliverNotice(ctx: SandboxContext, stored: StoredNotice | null): void {
  if (stored) deliverNotification(ctx, stored);
}
