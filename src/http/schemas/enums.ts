import Type, { type TUnsafe } from 'typebox';
import { CONNECTORS } from '../../providers/registry.ts';
import {
  BillingSchemeNumber,
  BillingSchemes,
  BillingStatuses,
  describeNumbered,
  MediumStatuses,
  MediumTypeNumber,
  MediumTypes,
  PaymentStatuses,
  PurchaseCreationEventMeaning,
  PurchaseLineTypeMeaning,
  PurchaseStatusMeaning,
  Roles,
  ServiceStatusCategories,
  ServiceStatuses,
} from '../../domain/enums.ts';

/** A string enumeration for OpenAPI, its numbers (where it has them) in the description. */
export function StringEnum<const T extends readonly string[]>(values: T, description: string): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });
}

function NumberedEnum<T extends number>(meanings: Record<T, string>, what: string): TUnsafe<T> {
  const values = Object.keys(meanings).map(Number);
  return Type.Unsafe<T>({
    type: 'integer',
    enum: values,
    description: `${what}: ${describeNumbered(meanings)}`,
    'x-enum-descriptions': Object.values(meanings),
  });
}

export const PurchaseStatusIdSchema = NumberedEnum(PurchaseStatusMeaning, 'Purchase status');
export const PurchaseCreationEventIdSchema = NumberedEnum(PurchaseCreationEventMeaning, 'How the purchase came about');
export const PurchaseLineTypeIdSchema = NumberedEnum(PurchaseLineTypeMeaning, 'Purchase line type');

const numbered = (table: Record<string, number>) =>
  Object.entries(table)
    .map(([name, n]) => `${n} = ${name}`)
    .join('; ');

export const MediumTypeSchema = StringEnum(MediumTypes, `Medium type (mediumType numbers: ${numbered(MediumTypeNumber)})`);
export const MediumStatusSchema = StringEnum(MediumStatuses, 'Medium status');
export const BillingStatusSchema = StringEnum(BillingStatuses, 'Billing status of a service');
export const ServiceStatusSchema = StringEnum(ServiceStatuses, 'Service status');
export const ServiceStatusCategorySchema = StringEnum(
  ServiceStatusCategories,
  'Category of the service status: PendingIspApplication → PreActivationStatuses, Active → ActiveStatuses, Suspended → SuspendedStatuses, Cancelled → CancelledStatuses',
);
export const BillingSchemeSchema = StringEnum(BillingSchemes, `Billing scheme (numbers: ${numbered(BillingSchemeNumber)})`);
export const ProviderSchema = Type.String({
  minLength: 1,
  maxLength: 40,
  description: `A payment provider. payrail has connectors for: ${CONNECTORS.map((c) => c.id).join(', ')}`,
});
export const PaymentStatusSchema = StringEnum(
  PaymentStatuses,
  'Collection attempt status: pending (asked, no answer yet), unknown (the answer was lost; payrail will ask the provider), succeeded, failed',
);
export const RoleSchema = StringEnum(Roles, 'Role of a user');
