CREATE TABLE "sandbox"."debitsuccess_accounts" (
	"account_reference_no" text PRIMARY KEY NOT NULL,
	"external_account_reference_no" text,
	"status" text DEFAULT 'Active' NOT NULL,
	"kind" text DEFAULT 'standard' NOT NULL,
	"balance_cents" bigint DEFAULT 0 NOT NULL,
	"pay_method_type" text,
	"pay_method_token" text,
	"pay_method_last4" text,
	"pay_method_details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"bank_outcome" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sandbox_debitsuccess_accounts_status" CHECK ("sandbox"."debitsuccess_accounts"."status" in ('Active', 'Inactive')),
	CONSTRAINT "sandbox_debitsuccess_accounts_kind" CHECK ("sandbox"."debitsuccess_accounts"."kind" in ('standard', 'fixed_term', 'add_on'))
);
--> statement-breakpoint
CREATE TABLE "sandbox"."debitsuccess_debit_orders" (
	"id" text PRIMARY KEY NOT NULL,
	"external_payment_identifier" text NOT NULL,
	"account_reference_no" text NOT NULL,
	"amount_cents" bigint NOT NULL,
	"outcome" text NOT NULL,
	"status" text NOT NULL,
	"returned" boolean DEFAULT false NOT NULL,
	"submitted_bank_day" integer NOT NULL,
	"next_bank_day" integer,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sandbox"."debitsuccess_payment_statuses" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sandbox"."debitsuccess_payment_statuses_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"payment_id" text NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"returned" boolean DEFAULT false NOT NULL,
	"bank_day" integer NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sandbox"."debitsuccess_state" (
	"id" smallint PRIMARY KEY NOT NULL,
	"bank_day" integer DEFAULT 0 NOT NULL,
	"bank_day_at" timestamp (3) with time zone NOT NULL,
	"webhook_disabled_at" timestamp (3) with time zone,
	"webhook_enabled_at" timestamp (3) with time zone,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "sandbox_debitsuccess_accounts_external" ON "sandbox"."debitsuccess_accounts" USING btree ("external_account_reference_no");--> statement-breakpoint
CREATE UNIQUE INDEX "sandbox_debitsuccess_debit_orders_external" ON "sandbox"."debitsuccess_debit_orders" USING btree ("external_payment_identifier");--> statement-breakpoint
CREATE INDEX "sandbox_debitsuccess_debit_orders_due" ON "sandbox"."debitsuccess_debit_orders" USING btree ("next_bank_day");--> statement-breakpoint
CREATE INDEX "sandbox_debitsuccess_payment_statuses_at" ON "sandbox"."debitsuccess_payment_statuses" USING btree ("occurred_at");