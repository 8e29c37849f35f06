import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { NotFoundError, UnprocessableError, ValidationError } from '../../lib/errors.ts';
import { pageRequest, toPage } from '../../lib/pagination.ts';
import { listLateSuccesses, listPaymentReturns, listPayments } from '../../modules/payments/repo.ts';
import { findPurchase, listPurchases } from '../../modules/purchases/repo.ts';
import { findService } from '../../modules/services/repo.ts';
import { isIsoDate } from '../../domain/periods.ts';
import { errorResponses, IsoDate, Page, PageQuery, Uuid } from '../schemas/common.ts';
import { LateSuccessSchema, PaymentReturnSchema, PaymentSchema, PurchaseSchema } from '../schemas/resources.ts';
import { scopeOf, secured, STAFF, type App } from '../route-kit.ts';
import { lateSuccessView, paymentReturnView, paymentView, purchaseView } from '../views.ts';

export function purchaseRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/purchases',
    {
      schema: {
        ...secured('Purchases'),
        summary: 'Purchases, newest first: of a service, or (integrators and admins) of the operator',
        description:
          'Customers list the purchases of one of their services (`serviceId` required). Integrators and admins may leave `serviceId` out to ' +
          'list the operator’s purchases, e.g. `?status=3&due_before=2027-02-01` for what is due and unpaid before a date.',
        querystring: Type.Object({
          serviceId: Type.Optional(Uuid()),
          status: Type.Optional(Type.Integer({ minimum: 1, maximum: 8, description: 'purchase_status_id' })),
          due_before: Type.Optional(IsoDate('Purchases dated before this day (South African time)')),
          ...PageQuery,
        }),
        response: { 200: Page(PurchaseSchema), ...errorResponses(400, 401, 404, 422) },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      const { serviceId, status, due_before: dueBefore } = request.query;
      if (serviceId === undefined && scope.customerId !== null) throw new ValidationError('serviceId is required.', [{ name: 'query.serviceId', reason: 'is required' }]);
      if (serviceId !== undefined && !(await findService(ctx.database.db, scope, serviceId))) throw new NotFoundError('service', serviceId);
      // As in bodies: a date of the right shape that is not on the calendar (2029-02-30) is well-formed but unacceptable.
      if (dueBefore !== undefined && !isIsoDate(dueBefore)) throw new UnprocessableError('purchase.due_before_invalid', 'due_before must be a calendar date.', { errors: [{ name: 'query.due_before', reason: 'is not a calendar date' }] });
      const page = pageRequest(request.query);
      const filter = {
        ...(serviceId === undefined ? {} : { serviceId }),
        ...(status === undefined ? {} : { statusId: status }),
        ...(dueBefore === undefined ? {} : { dueBefore }),
      };
      return toPage(await listPurchases(ctx.database.db, scope, filter, page), page, purchaseView);
    },
  );

  app.get(
    '/purchases/:id',
    {
      schema: { ...secured('Purchases'), summary: 'A purchase with its lines', params: Type.Object({ id: Uuid() }), response: { 200: PurchaseSchema, ...errorResponses(400, 401, 404) } },
    },
    async (request) => {
      const purchase = await findPurchase(ctx.database.db, scopeOf(request), request.params.id);
      if (!purchase) throw new NotFoundError('purchase', request.params.id);
      return purchaseView(purchase);
    },
  );

  app.get(
    '/payments',
    {
      schema: {
        ...secured('Purchases'),
        summary: 'Collection attempts of a purchase or of a service, newest first',
        description: 'Each attempt to collect the purchase (`purchaseId`) or any purchase of the service (`serviceId`; give one of the two): its provider, status and references.',
        querystring: Type.Object({ purchaseId: Type.Optional(Uuid()), serviceId: Type.Optional(Uuid()), ...PageQuery }),
        response: { 200: Page(PaymentSchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      const { purchaseId, serviceId } = request.query;
      if ((purchaseId === undefined) === (serviceId === undefined)) {
        throw new ValidationError('Give either purchaseId or serviceId.', [{ name: 'querystring', reason: 'exactly one of purchaseId and serviceId is required' }]);
      }
      const page = pageRequest(request.query);
      if (purchaseId !== undefined) {
        const purchase = await findPurchase(ctx.database.db, scope, purchaseId);
        if (!purchase) throw new NotFoundError('purchase', purchaseId);
        return toPage(await listPayments(ctx.database.db, scope.operatorId, { purchaseId: purchase.id }, page), page, paymentView);
      }
      const service = await findService(ctx.database.db, scope, serviceId!);
      if (!service) throw new NotFoundError('service', serviceId!);
      return toPage(await listPayments(ctx.database.db, scope.operatorId, { serviceId: service.id }, page), page, paymentView);
    },
  );

  app.get(
    '/payment-returns',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Purchases'),
        summary: 'Returned payments: debit orders reported unpaid after they succeeded (integrators and admins)',
        description:
          'A payment that succeeded and was then returned (Debitsuccess reported the debit order unpaid after it cleared). The payment stays succeeded; ' +
          'its purchase is owed again and its service in arrears. One per payment, newest first. Operators are told by the `payment.returned` webhook event too.',
        querystring: Type.Object({ ...PageQuery }),
        response: { 200: Page(PaymentReturnSchema), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const page = pageRequest(request.query);
      return toPage(await listPaymentReturns(ctx.database.db, scopeOf(request).operatorId, page), page, paymentReturnView);
    },
  );

  app.get(
    '/late-successes',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Purchases'),
        summary: 'Late successes: money taken for attempts payrail had failed (integrators and admins)',
        description:
          'A provider reported a payment successful after payrail had failed the attempt (its deadline had passed, or a new attempt superseded its page), ' +
          'or for a purchase another payment had already paid. Each is recorded once: it paid the purchase if it was still owed (`paid_purchase`), ' +
          'otherwise the money is to be refunded (`refund_due`; `?disposition=refund_due` lists those). Newest first. Operators are told by the ' +
          '`payment.late_success` webhook event too.',
        querystring: Type.Object({ disposition: Type.Optional(Type.Union([Type.Literal('paid_purchase'), Type.Literal('refund_due')])), ...PageQuery }),
        response: { 200: Page(LateSuccessSchema), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const page = pageRequest(request.query);
      return toPage(await listLateSuccesses(ctx.database.db, scopeOf(request).operatorId, request.query.disposition ?? null, page), page, lateSuccessView);
    },
  );
}
