CREATE TABLE "vend_advices" (
	"id" uuid PRIMARY KEY NOT NULL,
	"vend_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"reason" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone,
	"last_error" text,
	"delivered_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vend_advices_kind" CHECK ("vend_advices"."kind" in ('confirmation', 'reversal')),
	CONSTRAINT "vend_advices_status" CHECK ("vend_advices"."status" in ('pending', 'delivered', 'refused'))
);
--> statement-breakpoint
CREATE TABLE "vends" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"purchase_id" uuid NOT NULL,
	"service_id" uuid NOT NULL,
	"vendor" text,
	"meter_id" text NOT NULL,
	"amount_cents" bigint NOT NULL,
	"request_id" uuid NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"sends" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone,
	"sealed_tokens" text,
	"summary" jsonb,
	"failure_code" text,
	"failure_message" text,
	"raw" jsonb,
	"settled_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vends_status" CHECK ("vends"."status" in ('pending', 'sent', 'unknown', 'succeeded', 'failed')),
	CONSTRAINT "vends_settled" CHECK (("vends"."status" in ('succeeded', 'failed')) = ("vends"."settled_at" is not null))
);
--> statement-breakpoint
CREATE TABLE "refunds" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"payment_id" uuid NOT NULL,
	"purchase_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"amount_cents" bigint NOT NULL,
	"reason" text NOT NULL,
	"comment" text,
	"refund_reference" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"sends" integer DEFAULT 0 NOT NULL,
	"provider_reference" text,
	"failure_code" text,
	"failure_message" text,
	"raw" jsonb,
	"requested_by" text,
	"next_check_at" timestamp (3) with time zone,
	"checks" integer DEFAULT 0 NOT NULL,
	"settled_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "refunds_status" CHECK ("refunds"."status" in ('pending', 'unknown', 'succeeded', 'failed', 'manual')),
	CONSTRAINT "refunds_amount" CHECK ("refunds"."amount_cents" > 0)
);
--> statement-breakpoint
ALTER TABLE "products" DROP CONSTRAINT "products_billing_scheme";--> statement-breakpoint
ALTER TABLE "purchases" DROP CONSTRAINT "purchases_paid_at";--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "vend_min_cents" bigint;--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "vend_max_cents" bigint;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "meter_id" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "refunded_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "vend_advices" ADD CONSTRAINT "vend_advices_vend_id_vends_id_fk" FOREIGN KEY ("vend_id") REFERENCES "public"."vends"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vends" ADD CONSTRAINT "vends_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vends" ADD CONSTRAINT "vends_purchase_id_purchases_id_fk" FOREIGN KEY ("purchase_id") REFERENCES "public"."purchases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vends" ADD CONSTRAINT "vends_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_payment_id_payments_id_fk" FOREIGN KEY ("payment_id") REFERENCES "public"."payments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_purchase_id_purchases_id_fk" FOREIGN KEY ("purchase_id") REFERENCES "public"."purchases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "vend_advices_one_per_kind" ON "vend_advices" USING btree ("vend_id","kind");--> statement-breakpoint
CREATE INDEX "vend_advices_due" ON "vend_advices" USING btree ("next_attempt_at") WHERE "vend_advices"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "vends_purchase" ON "vends" USING btree ("purchase_id");--> statement-breakpoint
CREATE UNIQUE INDEX "vends_request" ON "vends" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "vends_due" ON "vends" USING btree ("next_attempt_at") WHERE "vends"."status" in ('pending', 'sent', 'unknown');--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_reference" ON "refunds" USING btree ("refund_reference");--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_one_per_payment" ON "refunds" USING btree ("payment_id") WHERE "refunds"."status" in ('pending', 'unknown', 'succeeded', 'manual');--> statement-breakpoint
CREATE INDEX "refunds_operator" ON "refunds" USING btree ("operator_id","created_at");--> statement-breakpoint
CREATE INDEX "refunds_due" ON "refunds" USING btree ("next_check_at") WHERE "refunds"."status" in ('pending', 'unknown');--> statement-breakpoint
ALTER TABLE "products" ADD CONSTRAINT "products_billing_scheme_v2" CHECK ("products"."billing_scheme" in ('Recurring', 'DayBundle', 'HybridDayBundle', 'PrepaidUtility'));--> statement-breakpoint
ALTER TABLE "products" ADD CONSTRAINT "products_vend_range" CHECK (("products"."billing_scheme" = 'PrepaidUtility') = ("products"."vend_min_cents" is not null and "products"."vend_max_cents" is not null) and ("products"."vend_min_cents" is null or ("products"."vend_min_cents" > 0 and "products"."vend_max_cents" >= "products"."vend_min_cents")));--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_meter_id" CHECK ("services"."meter_id" is null or "services"."meter_id" ~ '^[A-Za-z0-9]{1,20}$');--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_paid_at_v2" CHECK (("purchases"."status_id" = 4 and "purchases"."paid_at" is not null) or ("purchases"."status_id" <> 4 and ("purchases"."paid_at" is null or "purchases"."status_id" = 7)));--> statement-breakpoint
-- A utility purchase (creation event 7) that becomes Paid gets its one vend in the same statement, whichever
-- code path paid it: a paid purchase can never miss its vend, and never get two (vends_purchase).
CREATE OR REPLACE FUNCTION payrail_vend_paid_utility() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vends (id, operator_id, purchase_id, service_id, meter_id, amount_cents, request_id, status, created_at, updated_at)
  SELECT gen_random_uuid(), NEW.operator_id, NEW.id, NEW.service_id, s.meter_id, NEW.amount_cents, gen_random_uuid(), 'pending', now(), now()
    FROM services s WHERE s.id = NEW.service_id AND s.meter_id IS NOT NULL
  ON CONFLICT (purchase_id) DO NOTHING;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER purchases_vend_when_paid AFTER UPDATE OF status_id ON purchases FOR EACH ROW
  WHEN (NEW.status_id = 4 AND OLD.status_id IS DISTINCT FROM 4 AND NEW.creation_event_id = 7)
  EXECUTE FUNCTION payrail_vend_paid_utility();
