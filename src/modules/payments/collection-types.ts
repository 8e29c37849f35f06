import type { Actor } from '../../context.ts';
import type { MediumType, Provider, Role } from '../../domain/enums.ts';
import type { CollectionKind, Connector, Customer, MandateTerms } from '../../providers/contract.ts';
import type { PaymentRow } from './repo.ts';

/**
 * Who collects a purchase, and in whose name: a signed-in user (Pay Now, an integrator's allocation), or
 * payrail itself (a billing run, an auto-recharge). The operator scopes every read; a customer reaches only
 * their own services.
 */
export interface CollectionActor extends Actor {
  role: Role | 'system';
  operatorId: string;
  /** A customer acts for this customer only; null for staff and for payrail. */
  customerId: string | null;
}

export interface CollectInput {
  /** The service the purchase is for (checked: the purchase must be one of its purchases). */
  serviceId: string;
  purchaseId: string;
  mediumId: string;
  actor: CollectionActor;
  /**
   * Hosted pages and links: where the browser returns. Default: the client interface's result page of the
   * actor (through the provider's browser-return receiver when it declares one). payrail itself has no
   * browser: a medium that needs one is refused for it.
   */
  returnUrls?: { success: string | null; failure: string | null };
  /** false: a future-dated (Scheduled) purchase only records the medium and is collected on its date. */
  processImmediate?: boolean;
  /** Off-system allocations: where the money came from, and a note. */
  purchaseSourceId?: string | null;
  comment?: string | null;
}

export interface CollectionOutcome {
  /** Where to send the customer (hosted checkout, payment link); null for a token charge or an allocation. */
  paymentLinkUrl: string | null;
  /** The attempt, or null when collection was deferred to the purchase's date. */
  payment: PaymentRow | null;
  purchaseStatusId: number;
}

/** The medium being paid with, as far as collecting needs it. */
export interface CollectionMedium {
  id: string;
  customerId: string | null;
  mediumType: MediumType;
  status: string;
  provider: Provider | null;
}

/** The medium's provider token, still sealed, and the payment that stored it. */
export interface SealedToken {
  provider: Provider;
  sealed: string;
  agreementReference: string | null;
}

export interface Target {
  service: { id: string; customerId: string; collectorId: string; operatorId: string; productId: string };
  purchase: { id: string; serviceId: string; customerId: string; statusId: number; purchaseDate: Date; smallKey: number };
  customer: Customer;
  operator: { defaultCardProvider: Provider; paymentLinksEnabled: boolean };
  autoRecharge: boolean;
  medium: CollectionMedium | null;
  sealedToken: SealedToken | null;
}

export interface Plan {
  kind: CollectionKind;
  provider: Provider;
  connector: Connector;
  medium: CollectionMedium;
  sealedToken: SealedToken | null;
  successUrl: string | null;
  failureUrl: string | null;
  purchaseSourceId: string | null;
  tokenise: boolean;
  /** A hosted page that sets up a card mandate (a connector declaring `mandates`): its terms. */
  mandate?: MandateTerms | null;
}
