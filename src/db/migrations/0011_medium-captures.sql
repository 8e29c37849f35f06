CREATE TABLE "medium_captures" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"service_id" uuid,
	"medium_type" text NOT NULL,
	"provider" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"account_reference" text NOT NULL,
	"provider_reference" text,
	"sealed_notice_secret" text,
	"redirect_url" text,
	"return_url" text NOT NULL,
	"expires_at" timestamp (3) with time zone,
	"medium_id" uuid,
	"failure_code" text,
	"failure_message" text,
	"finished_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "medium_captures_status" CHECK ("medium_captures"."status" in ('open', 'succeeded', 'failed', 'expired')),
	CONSTRAINT "medium_captures_type" CHECK ("medium_captures"."medium_type" in ('BankAccount', 'CreditCard')),
	CONSTRAINT "medium_captures_medium" CHECK (("medium_captures"."status" = 'succeeded') = ("medium_captures"."medium_id" is not null))
);
--> statement-breakpoint
ALTER TABLE "medium_captures" ADD CONSTRAINT "medium_captures_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "medium_captures" ADD CONSTRAINT "medium_captures_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "medium_captures" ADD CONSTRAINT "medium_captures_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "medium_captures" ADD CONSTRAINT "medium_captures_medium_id_mediums_id_fk" FOREIGN KEY ("medium_id") REFERENCES "public"."mediums"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "medium_captures_provider_reference" ON "medium_captures" USING btree ("provider","provider_reference");--> statement-breakpoint
CREATE INDEX "medium_captures_customer" ON "medium_captures" USING btree ("customer_id","created_at");