CREATE TABLE "sandbox"."vendor_messages" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"request_id" text,
	"meter_id" text,
	"amount_cents" bigint,
	"reason" text,
	"http_status" smallint,
	"response" jsonb,
	"received" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sandbox_vendor_messages_kind" CHECK ("sandbox"."vendor_messages"."kind" in ('purchase', 'trial', 'lookup', 'reprint', 'confirmation', 'reversal'))
);
--> statement-breakpoint
CREATE INDEX "sandbox_vendor_messages_request" ON "sandbox"."vendor_messages" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "sandbox_vendor_messages_meter" ON "sandbox"."vendor_messages" USING btree ("meter_id","created_at");