CREATE TABLE "provider_call_slots" (
	"provider" text NOT NULL,
	"scope" text NOT NULL,
	"next_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "provider_call_slots_provider_scope_pk" PRIMARY KEY("provider","scope")
);
--> statement-breakpoint
CREATE TABLE "sandbox"."behaviours" (
	"provider" text PRIMARY KEY NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "sandbox"."sandbox_transactions_one_approval";--> statement-breakpoint
ALTER TABLE "medium_credentials" ADD COLUMN "agreement_reference" text;--> statement-breakpoint
ALTER TABLE "provider_events" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_events" ADD COLUMN "next_attempt_at" timestamp (3) with time zone;--> statement-breakpoint
CREATE INDEX "provider_events_due" ON "provider_events" USING btree ("next_attempt_at") WHERE "provider_events"."processed_at" is null;--> statement-breakpoint
CREATE INDEX "sandbox_notifications_body" ON "sandbox"."notifications" USING btree ("provider",md5("body"));--> statement-breakpoint
CREATE INDEX "sandbox_transactions_reference" ON "sandbox"."transactions" USING btree ("provider","merchant_reference");--> statement-breakpoint
CREATE INDEX "sandbox_transactions_token" ON "sandbox"."transactions" USING btree ("provider","token","created_at");--> statement-breakpoint
-- Callbacks stored but not processed before this version are due now.
UPDATE "provider_events" SET "next_attempt_at" = "received_at" WHERE "processed_at" IS NULL;
