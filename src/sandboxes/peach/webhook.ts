import { createHmac, randomUUID } from 'node:crypto';
import { sendNotification, type SandboxContext } from '../kit/kit.ts';
import { currentBehaviour, type WebhookFormat } from './behaviour.ts';
import { PROVIDER, sandboxMerchant } from './shared.ts';

/**
 * Peach's webhook to notificationUrl: the checkout's signed fields (dotted names, the in-body `signature`
 * computed over them) in the format the behaviour setting names, and on every webhook the header HMAC
 * Peach adds: `x-webhook-signature` = hex HMAC-SHA256 under the secret token of
 * `${x-webhook-timestamp}.${x-webhook-id}.${url}.${rawBody}`. Delivered and retried by the sandbox kit.
 */
export async function sendWebhook(ctx: SandboxContext, url: string, signedFields: Record<string, string>): Promise<string> {
  const { webhookFormat } = await currentBehaviour(ctx);
  const { contentType, body } = encodeWebhook(signedFields, webhookFormat);
  const id = randomUUID();
  const timestamp = String(ctx.clock().getTime());
  const signature = createHmac('sha256', sandboxMerchant(ctx).secret_token).update(`${timestamp}.${id}.${url}.${body}`, 'utf8').digest('hex');
  return sendNotification(ctx, {
    provider: PROVIDER,
    url,
    contentType,
    body,
    headers: { 'x-webhook-id': id, 'x-webhook-timestamp': timestamp, 'x-webhook-signature': signature, 'x-webhook-signature-algorithm': 'HmacSHA256' },
  });
}

/** The body of one webhook. The fields are already signed under their dotted names, whatever the format. */
export function encodeWebhook(fields: Record<string, string>, format: WebhookFormat): { contentType: string; body: string } {
  switch (format) {
    case 'form':
      return { contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams(fields).toString() };
    case 'form_underscore':
      return { contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams(Object.entries(fields).map(([k, v]): [string, string] => [k.replaceAll('.', '_'), v])).toString() };
    case 'json':
      return { contentType: 'application/json', body: JSON.stringify({ payload: fields }) };
  }
}
