CREATE TABLE "sandbox"."vodapay_mandates" (
	"payment_token" text PRIMARY KEY NOT NULL,
	"merchant" text NOT NULL,
	"customer_id" text,
	"digital_wallet_id" text,
	"trace_id" text NOT NULL,
	"session_id" text NOT NULL,
	"category" smallint NOT NULL,
	"frequency" smallint NOT NULL,
	"regular_payment_day" smallint,
	"amount_cents" bigint,
	"amount_limit_cents" bigint,
	"first_payment_date" text,
	"last_payment_date" text,
	"number_of_installments" integer,
	"validity_months" integer,
	"status" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sandbox_vodapay_mandates_status" CHECK ("sandbox"."vodapay_mandates"."status" in ('active', 'blocked', 'cancelled', 'removed'))
);
--> statement-breakpoint
CREATE TABLE "sandbox"."vodapay_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"merchant" text NOT NULL,
	"trace_id" text NOT NULL,
	"kind" text NOT NULL,
	"amount_cents" bigint NOT NULL,
	"payment_token" text,
	"status" text NOT NULL,
	"session_id" text NOT NULL,
	"transaction_id" text NOT NULL,
	"result" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sandbox_vodapay_requests_kind" CHECK ("sandbox"."vodapay_requests"."kind" in ('Recurring', 'SubmitRecurring')),
	CONSTRAINT "sandbox_vodapay_requests_status" CHECK ("sandbox"."vodapay_requests"."status" in ('processing', 'open', 'done'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "sandbox_vodapay_requests_trace" ON "sandbox"."vodapay_requests" USING btree ("merchant","trace_id");--> statement-breakpoint
CREATE INDEX "sandbox_vodapay_requests_session" ON "sandbox"."vodapay_requests" USING btree ("session_id");