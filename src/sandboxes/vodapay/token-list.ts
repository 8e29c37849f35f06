import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { sandboxTokens } from '../kit/schema.ts';
import { isObject, optString, Refusal, refuse, traceIdOf, UUID } from './fields.ts';
import { checkHeaders, postBoth, refusalAnswer } from './http.ts';
import { messageOf, PROVIDER, transmissionDateTime, VODAPAY_SANDBOX_MERCHANT } from './merchant.ts';
import { vodapayMandates } from './schema.ts';

/**
 * `POST /V2/Token/List` (the OpenAPI's Token_List): a customer's payment tokens, body VodaPayGatewayListToken
 * `{ echoData, traceId, customerId | digitalWalletId }`, answered in the envelope with `paymentTokens`
 * (PaymentToken). The card is described as a card network would: `truncatedPaymentInstrument` BIN, stars and
 * last four; `paymentInstrumentExpiryDate` YYMM (ISO 8583); never the whole number (README.md).
 */
export function registerTokenList(scope: App, ctx: SandboxContext): void {
  const db = ctx.database.db;
  postBoth(scope, '/Token/List', async (request, reply) => {
    const now = ctx.clock();
    const body = request.body;
    const refused = checkHeaders(request);
    const answer = (status: number, data: Record<string, unknown>) => reply.status(status).type('application/json; charset=utf-8').send({ succeeded: status === 200, data });
    if (refused) {
      const a = refusalAnswer(refused, body, now, 'initiate');
      return answer(a.status, a.body.data as unknown as Record<string, unknown>);
    }
    try {
      if (!isObject(body)) refuse('the body must be a JSON object');
      const o = body as Record<string, unknown>;
      const traceId = traceIdOf(o);
      const echoData = optString(o, 'echoData', 9999) ?? null;
      const customerId = optString(o, 'customerId', 255, 1) ?? null;
      const wallet = optString(o, 'digitalWalletId', 36) ?? null;
      if (wallet !== null && !UUID.test(wallet)) refuse('digitalWalletId must be a 36-character UUID');
      if (customerId === null && wallet === null) refuse('customerId or digitalWalletId is required');
      const rows = await db
        .select({ mandate: vodapayMandates, card: sandboxTokens })
        .from(vodapayMandates)
        .innerJoin(sandboxTokens, and(eq(sandboxTokens.provider, PROVIDER), eq(sandboxTokens.token, vodapayMandates.paymentToken)))
        .where(and(eq(vodapayMandates.merchant, VODAPAY_SANDBOX_MERCHANT.apiKey), customerId !== null ? eq(vodapayMandates.customerId, customerId) : eq(vodapayMandates.digitalWalletId, wallet!)))
        .orderBy(asc(vodapayMandates.createdAt));
      const paymentTokens = rows
        .filter((r) => r.mandate.status !== 'removed')
        .map(({ mandate: m, card: c }) => ({
          issueDate: m.createdAt.toISOString(),
          token: m.paymentToken,
          expiryDateTime: null,
          status: m.status[0]!.toUpperCase() + m.status.slice(1),
          paymentInstrumentCategoryCode: 'Card',
          paymentInstrumentName: c.holder,
          truncatedPaymentInstrument: `${c.cardBin}******${c.cardLast4}`,
          paymentInstrumentAssociationName: c.cardBin.startsWith('5') ? 'Mastercard' : c.cardBin.startsWith('4') ? 'Visa' : 'Card',
          paymentInstrumentType: 'CreditCard',
          paymentInstrumentMessageSequence: null,
          defaultPaymentInstrument: false,
          paymentInstrumentExpiryDate: `${String(c.expiryYear % 100).padStart(2, '0')}${String(c.expiryMonth).padStart(2, '0')}`,
          additionalPaymentTokenInformation: `recurring: category ${m.category}, frequency ${m.frequency}`,
        }));
      return answer(200, { echoData, responseCode: '00', responseMessage: messageOf('00'), transmissionDateTime: transmissionDateTime(now, 'initiate'), traceId, sessionId: randomUUID(), tokenRequesterId: null, paymentTokens });
    } catch (err) {
      if (err instanceof Refusal) {
        const a = refusalAnswer(err, body, now, 'initiate');
        return answer(a.status, a.body.data as unknown as Record<string, unknown>);
      }
      throw err;
    }
  });
}
