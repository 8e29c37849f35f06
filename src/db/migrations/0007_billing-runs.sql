CREATE TABLE "billing_collections" (
	"id" uuid PRIMARY KEY NOT NULL,
	"run_id" uuid NOT NULL,
	"operator_id" uuid NOT NULL,
	"purchase_id" uuid NOT NULL,
	"attempt" smallint NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"lease_until" timestamp (3) with time zone,
	"outcome" text,
	"payment_id" uuid,
	"detail" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "billing_collections_purchase_attempt" UNIQUE("purchase_id","attempt"),
	CONSTRAINT "billing_collections_status" CHECK ("billing_collections"."status" in ('queued', 'running', 'done'))
);
--> statement-breakpoint
CREATE TABLE "billing_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"as_of" date NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"purchases_created" integer DEFAULT 0 NOT NULL,
	"collections_started" integer DEFAULT 0 NOT NULL,
	"retries_started" integer DEFAULT 0 NOT NULL,
	"services_suspended" integer DEFAULT 0 NOT NULL,
	"services_reinstated" integer DEFAULT 0 NOT NULL,
	"purchases_failed" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "billing_runs_operator_as_of" UNIQUE("operator_id","as_of"),
	CONSTRAINT "billing_runs_status" CHECK ("billing_runs"."status" in ('running', 'completed'))
);
--> statement-breakpoint
ALTER TABLE "products" DROP CONSTRAINT "products_collection_day";--> statement-breakpoint
ALTER TABLE "services" DROP CONSTRAINT "services_collection_day";--> statement-breakpoint
ALTER TABLE "operators" ADD COLUMN "retry_days" integer[] DEFAULT '{3,7}'::integer[] NOT NULL;--> statement-breakpoint
ALTER TABLE "operators" ADD COLUMN "auto_recharge_attempts" integer DEFAULT 3 NOT NULL;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "billed_through" date;--> statement-breakpoint
ALTER TABLE "purchases" ADD COLUMN "period_start" date;--> statement-breakpoint
ALTER TABLE "purchases" ADD COLUMN "period_end" date;--> statement-breakpoint
ALTER TABLE "billing_collections" ADD CONSTRAINT "billing_collections_run_id_billing_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."billing_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_collections" ADD CONSTRAINT "billing_collections_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_collections" ADD CONSTRAINT "billing_collections_purchase_id_purchases_id_fk" FOREIGN KEY ("purchase_id") REFERENCES "public"."purchases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_collections" ADD CONSTRAINT "billing_collections_payment_id_payments_id_fk" FOREIGN KEY ("payment_id") REFERENCES "public"."payments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_runs" ADD CONSTRAINT "billing_runs_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "billing_collections_run" ON "billing_collections" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "billing_collections_due" ON "billing_collections" USING btree ("created_at") WHERE "billing_collections"."status" <> 'done';--> statement-breakpoint
CREATE INDEX "services_billing_due" ON "services" USING btree ("billed_through") WHERE "services"."status" = 'Active' and "services"."billed_through" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "purchases_billing_period" ON "purchases" USING btree ("service_id","period_start") WHERE "purchases"."creation_event_id" = 2;--> statement-breakpoint
ALTER TABLE "operators" ADD CONSTRAINT "operators_retry_days" CHECK (cardinality("operators"."retry_days") <= 10 and 0 < all("operators"."retry_days") and 365 >= all("operators"."retry_days"));--> statement-breakpoint
ALTER TABLE "operators" ADD CONSTRAINT "operators_auto_recharge_attempts" CHECK ("operators"."auto_recharge_attempts" between 1 and 10);--> statement-breakpoint
ALTER TABLE "products" ADD CONSTRAINT "products_collection_day" CHECK ("products"."default_collection_day" between 1 and 31);--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_collection_day" CHECK ("services"."collection_day" between 1 and 31);--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_period" CHECK (("purchases"."period_start" is null) = ("purchases"."period_end" is null) and "purchases"."period_start" < "purchases"."period_end");--> statement-breakpoint
-- A service's collection date in a month: its collection day, or the month's last day when the month is
-- shorter (day 31 in February is the 28th or 29th). `month_start` is the first of the month.
CREATE FUNCTION payrail_collection_date_in(month_start date, collection_day integer) RETURNS date
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT month_start + (least(collection_day, extract(day FROM (month_start + interval '1 month' - interval '1 day'))::integer) - 1)
$$;
--> statement-breakpoint
-- The first collection date strictly after `after` (domain/periods.ts nextCollectionDate, in SQL).
CREATE FUNCTION payrail_next_collection_date(after date, collection_day integer) RETURNS date
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN payrail_collection_date_in(date_trunc('month', after)::date, collection_day) > after
      THEN payrail_collection_date_in(date_trunc('month', after)::date, collection_day)
    ELSE payrail_collection_date_in((date_trunc('month', after) + interval '1 month')::date, collection_day)
  END
$$;
--> statement-breakpoint
-- Reinstatement (SPEC §10): a Suspended service whose debts are all paid, by any route (Pay Now, an
-- off-system allocation, a retry, a late success), is Active again at once, with its outbox event in the
-- same transaction. Every way of paying ends in billing_status PaidUp, so the rule lives here once.
CREATE FUNCTION payrail_reinstate_service() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  event_id uuid := gen_random_uuid();
  at timestamptz := clock_timestamp();
BEGIN
  NEW.status := 'Active';
  NEW.suspension_date := NULL;
  -- The months it was suspended are not billed: monthly billing resumes on the first collection date on
  -- or after the day it was reinstated (the day of the update, as the application's clock stamped it).
  IF NEW.billed_through IS NOT NULL AND NEW.collection_day IS NOT NULL THEN
    NEW.billed_through := greatest(NEW.billed_through,
      payrail_next_collection_date(((NEW.updated_at AT TIME ZONE 'UTC') + interval '2 hours')::date - 1, NEW.collection_day));
  END IF;
  INSERT INTO outbox_events (id, operator_id, type, payload, created_at)
  VALUES (event_id, NEW.operator_id, 'service.reinstated', jsonb_build_object(
    'id', event_id,
    'type', 'service.reinstated',
    'created_at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'data', jsonb_build_object('service_id', NEW.id, 'customer_id', NEW.customer_id, 'service_status', 'Active',
      'billing_status', NEW.billing_status, 'latest_period_end_date', NEW.latest_period_end_date)
  ), at);
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER services_reinstate BEFORE UPDATE ON services FOR EACH ROW
  WHEN (OLD.status = 'Suspended' AND NEW.status = 'Suspended' AND NEW.billing_status = 'PaidUp')
  EXECUTE FUNCTION payrail_reinstate_service();
--> statement-breakpoint
-- Active Recurring services billed from their next collection date on: nothing before this migration is
-- billed again.
UPDATE services s SET billed_through = payrail_next_collection_date(current_date, s.collection_day)
FROM products p
WHERE p.id = s.product_id AND p.billing_scheme = 'Recurring' AND s.status IN ('Active', 'Suspended') AND s.collection_day IS NOT NULL;
