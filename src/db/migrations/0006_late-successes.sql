CREATE TABLE "late_successes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"payment_id" uuid NOT NULL,
	"purchase_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"provider_reference" text,
	"amount_cents" bigint NOT NULL,
	"currency" text DEFAULT 'ZAR' NOT NULL,
	"disposition" text NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "late_successes_payment_id_unique" UNIQUE("payment_id"),
	CONSTRAINT "late_successes_disposition" CHECK ("late_successes"."disposition" in ('paid_purchase', 'refund_due'))
);
--> statement-breakpoint
ALTER TABLE "late_successes" ADD CONSTRAINT "late_successes_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "late_successes" ADD CONSTRAINT "late_successes_payment_id_payments_id_fk" FOREIGN KEY ("payment_id") REFERENCES "public"."payments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "late_successes" ADD CONSTRAINT "late_successes_purchase_id_purchases_id_fk" FOREIGN KEY ("purchase_id") REFERENCES "public"."purchases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "late_successes_refunds" ON "late_successes" USING btree ("operator_id","created_at") WHERE "late_successes"."disposition" = 'refund_due';