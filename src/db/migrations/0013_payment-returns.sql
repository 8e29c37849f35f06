CREATE TABLE "payment_returns" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"payment_id" uuid NOT NULL,
	"purchase_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"provider_reference" text,
	"amount_cents" bigint NOT NULL,
	"currency" text DEFAULT 'ZAR' NOT NULL,
	"reason_code" text NOT NULL,
	"reason" text NOT NULL,
	"returned_at" timestamp (3) with time zone,
	"via" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payment_returns_payment_id_unique" UNIQUE("payment_id")
);
--> statement-breakpoint
CREATE TABLE "provider_feeds" (
	"provider" text PRIMARY KEY NOT NULL,
	"position" text,
	"next_read_at" timestamp (3) with time zone NOT NULL,
	"last_read_at" timestamp (3) with time zone,
	"last_error" text,
	"entries_applied" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "returned_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "payment_returns" ADD CONSTRAINT "payment_returns_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_returns" ADD CONSTRAINT "payment_returns_payment_id_payments_id_fk" FOREIGN KEY ("payment_id") REFERENCES "public"."payments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_returns" ADD CONSTRAINT "payment_returns_purchase_id_purchases_id_fk" FOREIGN KEY ("purchase_id") REFERENCES "public"."purchases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "payment_returns_purchase" ON "payment_returns" USING btree ("purchase_id");--> statement-breakpoint
CREATE INDEX "payment_returns_operator" ON "payment_returns" USING btree ("operator_id","created_at");--> statement-breakpoint
-- A returned payment no longer pays its purchase: another attempt may collect it (the new index is made
-- before the old one goes, so no moment allows two live attempts).
CREATE UNIQUE INDEX "payments_one_live_per_purchase_v2" ON "payments" USING btree ("purchase_id") WHERE "payments"."status" in ('pending', 'unknown') or ("payments"."status" = 'succeeded' and "payments"."returned_at" is null);--> statement-breakpoint
DROP INDEX "payments_one_live_per_purchase";--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_returned" CHECK ("payments"."returned_at" is null or "payments"."status" = 'succeeded');