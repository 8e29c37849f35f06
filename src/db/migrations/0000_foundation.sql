CREATE TABLE "collectors" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "operators" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"currency" text DEFAULT 'ZAR' NOT NULL,
	"vat_rate_bp" integer DEFAULT 1500 NOT NULL,
	"payment_links_enabled" boolean DEFAULT false NOT NULL,
	"default_bank_provider" text DEFAULT 'Debitsuccess' NOT NULL,
	"default_card_provider" text DEFAULT 'PeachPayments' NOT NULL,
	"grace_days" integer DEFAULT 7 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "operators_vat_rate_bp" CHECK ("operators"."vat_rate_bp" between 0 and 10000),
	CONSTRAINT "operators_grace_days" CHECK ("operators"."grace_days" between 0 and 365),
	CONSTRAINT "operators_currency" CHECK ("operators"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "purchase_sources" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"collector_id" uuid NOT NULL,
	"name" text NOT NULL,
	"off_system" boolean DEFAULT true NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "purchase_sources_collector_name" UNIQUE("collector_id","name")
);
--> statement-breakpoint
CREATE TABLE "product_prices" (
	"id" uuid PRIMARY KEY NOT NULL,
	"product_id" uuid NOT NULL,
	"description" text NOT NULL,
	"line_type_id" smallint NOT NULL,
	"price_incl_cents" bigint NOT NULL,
	"period_contribution_per_quantity" integer DEFAULT 0 NOT NULL,
	"days_in_period" smallint,
	"on_order" boolean DEFAULT false NOT NULL,
	"buy_now" boolean DEFAULT false NOT NULL,
	"max_quantity" integer DEFAULT 52 NOT NULL,
	"position" smallint DEFAULT 0 NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "product_prices_line_type" CHECK ("product_prices"."line_type_id" in (1, 2, 3)),
	CONSTRAINT "product_prices_amount" CHECK ("product_prices"."price_incl_cents" > 0),
	CONSTRAINT "product_prices_monthly_days" CHECK ("product_prices"."line_type_id" <> 2 or "product_prices"."days_in_period" between 28 and 31),
	CONSTRAINT "product_prices_contribution" CHECK ("product_prices"."period_contribution_per_quantity" >= 0),
	CONSTRAINT "product_prices_max_quantity" CHECK ("product_prices"."max_quantity" between 1 and 1000)
);
--> statement-breakpoint
CREATE TABLE "products" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"name" text NOT NULL,
	"billing_scheme" text NOT NULL,
	"default_collection_day" smallint,
	"auto_recharge" boolean DEFAULT false NOT NULL,
	"auto_recharge_lead_days" smallint DEFAULT 1 NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "products_billing_scheme" CHECK ("products"."billing_scheme" in ('Recurring', 'DayBundle', 'HybridDayBundle')),
	CONSTRAINT "products_collection_day" CHECK ("products"."default_collection_day" between 1 and 28),
	CONSTRAINT "products_auto_recharge" CHECK (not "products"."auto_recharge" or "products"."billing_scheme" = 'HybridDayBundle'),
	CONSTRAINT "products_lead_days" CHECK ("products"."auto_recharge_lead_days" between 0 and 30)
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"cell_number" text,
	"external_reference" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"customer_id" uuid,
	"role" text NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_role" CHECK ("users"."role" in ('customer', 'integrator', 'admin')),
	CONSTRAINT "users_customer_role" CHECK (("users"."role" = 'customer') = ("users"."customer_id" is not null))
);
--> statement-breakpoint
CREATE TABLE "medium_credentials" (
	"medium_id" uuid PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"sealed_token" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mediums" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid,
	"customer_id" uuid,
	"medium_type" text NOT NULL,
	"status" text DEFAULT 'Valid' NOT NULL,
	"provider" text,
	"external_reference" text NOT NULL,
	"account_name" text NOT NULL,
	"account_number" text,
	"expiry_month" smallint,
	"expiry_year" smallint,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mediums_type" CHECK ("mediums"."medium_type" in ('BankAccount', 'CreditCard', 'PaymentLink', 'OffSystem', 'ProviderSelectedOpaque')),
	CONSTRAINT "mediums_status" CHECK ("mediums"."status" in ('Valid', 'Pending', 'Expired', 'Invalid')),
	CONSTRAINT "mediums_owner" CHECK (("mediums"."customer_id" is null) = ("mediums"."medium_type" = 'ProviderSelectedOpaque')),
	CONSTRAINT "mediums_partial_number" CHECK ("mediums"."account_number" is null or "mediums"."account_number" ~ '^[0-9]{0,4}$')
);
--> statement-breakpoint
CREATE TABLE "purchase_plans" (
	"id" uuid PRIMARY KEY NOT NULL,
	"service_id" uuid NOT NULL,
	"active_medium_id" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "purchase_plans_service_id_unique" UNIQUE("service_id")
);
--> statement-breakpoint
CREATE TABLE "services" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"product_id" uuid NOT NULL,
	"collector_id" uuid NOT NULL,
	"status" text DEFAULT 'PendingIspApplication' NOT NULL,
	"billing_status" text DEFAULT 'InArrears' NOT NULL,
	"collection_day" smallint,
	"latest_period_end_date" date,
	"suspension_date" date,
	"on_network_date" date,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "services_status" CHECK ("services"."status" in ('PendingIspApplication', 'Active', 'Suspended', 'Cancelled')),
	CONSTRAINT "services_billing_status" CHECK ("services"."billing_status" in ('PaidUp', 'InArrears', 'Suspended')),
	CONSTRAINT "services_collection_day" CHECK ("services"."collection_day" between 1 and 28)
);
--> statement-breakpoint
CREATE TABLE "purchase_lines" (
	"id" uuid PRIMARY KEY NOT NULL,
	"purchase_id" uuid NOT NULL,
	"original_purchase_line_id" uuid,
	"position" smallint NOT NULL,
	"line_type_id" smallint NOT NULL,
	"description" text NOT NULL,
	"quantity" integer NOT NULL,
	"unit_price_incl_num" bigint NOT NULL,
	"unit_price_incl_den" bigint DEFAULT 1 NOT NULL,
	"tax_rate_bp" integer NOT NULL,
	"total_amount_cents" bigint NOT NULL,
	"period_contribution_per_quantity" integer NOT NULL,
	"product_price_id" uuid,
	CONSTRAINT "purchase_lines_type" CHECK ("purchase_lines"."line_type_id" in (1, 2, 3)),
	CONSTRAINT "purchase_lines_quantity" CHECK ("purchase_lines"."quantity" > 0),
	CONSTRAINT "purchase_lines_price" CHECK ("purchase_lines"."unit_price_incl_num" >= 0 and "purchase_lines"."unit_price_incl_den" > 0),
	CONSTRAINT "purchase_lines_total" CHECK ("purchase_lines"."total_amount_cents" >= 0)
);
--> statement-breakpoint
CREATE TABLE "purchases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"service_id" uuid NOT NULL,
	"purchase_plan_id" uuid,
	"medium_id" uuid,
	"purchase_source_id" uuid,
	"status_id" smallint NOT NULL,
	"creation_event_id" smallint NOT NULL,
	"purchase_date" timestamp (3) with time zone NOT NULL,
	"small_key" bigint GENERATED BY DEFAULT AS IDENTITY (sequence name "purchases_small_key_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 2100000 CACHE 1),
	"payment_reference" text,
	"period_applied" boolean DEFAULT false NOT NULL,
	"currency" text DEFAULT 'ZAR' NOT NULL,
	"amount_cents" bigint NOT NULL,
	"amount_excl_cents" bigint NOT NULL,
	"tax_cents" bigint NOT NULL,
	"customer_statement_ref" text,
	"comment" text,
	"paid_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "purchases_small_key_unique" UNIQUE("small_key"),
	CONSTRAINT "purchases_status" CHECK ("purchases"."status_id" between 1 and 8),
	CONSTRAINT "purchases_creation_event" CHECK ("purchases"."creation_event_id" between 1 and 7),
	CONSTRAINT "purchases_totals" CHECK ("purchases"."amount_cents" = "purchases"."amount_excl_cents" + "purchases"."tax_cents" and "purchases"."amount_cents" >= 0),
	CONSTRAINT "purchases_paid_at" CHECK (("purchases"."status_id" = 4) = ("purchases"."paid_at" is not null))
);
--> statement-breakpoint
CREATE TABLE "payments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operator_id" uuid NOT NULL,
	"purchase_id" uuid NOT NULL,
	"medium_id" uuid,
	"provider" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"amount_cents" bigint NOT NULL,
	"currency" text DEFAULT 'ZAR' NOT NULL,
	"merchant_reference" text NOT NULL,
	"provider_reference" text,
	"failure_code" text,
	"failure_message" text,
	"purchase_source_id" uuid,
	"comment" text,
	"next_check_at" timestamp (3) with time zone,
	"checks" integer DEFAULT 0 NOT NULL,
	"settled_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payments_merchant_reference_unique" UNIQUE("merchant_reference"),
	CONSTRAINT "payments_status" CHECK ("payments"."status" in ('pending', 'succeeded', 'failed', 'unknown')),
	CONSTRAINT "payments_amount" CHECK ("payments"."amount_cents" > 0),
	CONSTRAINT "payments_settled" CHECK (("payments"."status" in ('succeeded', 'failed')) = ("payments"."settled_at" is not null))
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"operator_id" uuid NOT NULL,
	"principal" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"state" text DEFAULT 'in_progress' NOT NULL,
	"response_status" integer,
	"response_body" text,
	"response_content_type" text,
	"locked_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp (3) with time zone,
	CONSTRAINT "idempotency_keys_operator_id_principal_key_pk" PRIMARY KEY("operator_id","principal","key"),
	CONSTRAINT "idempotency_keys_state" CHECK ("idempotency_keys"."state" in ('in_progress', 'completed'))
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"operator_id" uuid NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"action" text NOT NULL,
	"from_state" text,
	"to_state" text,
	"actor_id" text,
	"actor_role" text,
	"request_id" text,
	"data" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "collectors" ADD CONSTRAINT "collectors_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_sources" ADD CONSTRAINT "purchase_sources_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_sources" ADD CONSTRAINT "purchase_sources_collector_id_collectors_id_fk" FOREIGN KEY ("collector_id") REFERENCES "public"."collectors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "product_prices" ADD CONSTRAINT "product_prices_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "products" ADD CONSTRAINT "products_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customers" ADD CONSTRAINT "customers_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "medium_credentials" ADD CONSTRAINT "medium_credentials_medium_id_mediums_id_fk" FOREIGN KEY ("medium_id") REFERENCES "public"."mediums"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mediums" ADD CONSTRAINT "mediums_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mediums" ADD CONSTRAINT "mediums_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_plans" ADD CONSTRAINT "purchase_plans_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_plans" ADD CONSTRAINT "purchase_plans_active_medium_id_mediums_id_fk" FOREIGN KEY ("active_medium_id") REFERENCES "public"."mediums"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_collector_id_collectors_id_fk" FOREIGN KEY ("collector_id") REFERENCES "public"."collectors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_lines" ADD CONSTRAINT "purchase_lines_purchase_id_purchases_id_fk" FOREIGN KEY ("purchase_id") REFERENCES "public"."purchases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_lines" ADD CONSTRAINT "purchase_lines_product_price_id_product_prices_id_fk" FOREIGN KEY ("product_price_id") REFERENCES "public"."product_prices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_purchase_plan_id_purchase_plans_id_fk" FOREIGN KEY ("purchase_plan_id") REFERENCES "public"."purchase_plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_medium_id_mediums_id_fk" FOREIGN KEY ("medium_id") REFERENCES "public"."mediums"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_purchase_source_id_purchase_sources_id_fk" FOREIGN KEY ("purchase_source_id") REFERENCES "public"."purchase_sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_purchase_id_purchases_id_fk" FOREIGN KEY ("purchase_id") REFERENCES "public"."purchases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_medium_id_mediums_id_fk" FOREIGN KEY ("medium_id") REFERENCES "public"."mediums"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_purchase_source_id_purchase_sources_id_fk" FOREIGN KEY ("purchase_source_id") REFERENCES "public"."purchase_sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "collectors_operator" ON "collectors" USING btree ("operator_id");--> statement-breakpoint
CREATE INDEX "purchase_sources_operator" ON "purchase_sources" USING btree ("operator_id");--> statement-breakpoint
CREATE INDEX "product_prices_product" ON "product_prices" USING btree ("product_id");--> statement-breakpoint
CREATE INDEX "products_operator" ON "products" USING btree ("operator_id","created_at");--> statement-breakpoint
CREATE INDEX "customers_operator" ON "customers" USING btree ("operator_id","created_at");--> statement-breakpoint
CREATE INDEX "users_customer" ON "users" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "users_operator" ON "users" USING btree ("operator_id");--> statement-breakpoint
CREATE INDEX "mediums_customer" ON "mediums" USING btree ("customer_id","created_at");--> statement-breakpoint
CREATE INDEX "purchase_plans_active_medium" ON "purchase_plans" USING btree ("active_medium_id");--> statement-breakpoint
CREATE INDEX "services_customer" ON "services" USING btree ("customer_id","created_at");--> statement-breakpoint
CREATE INDEX "services_operator" ON "services" USING btree ("operator_id","created_at");--> statement-breakpoint
CREATE INDEX "purchase_lines_purchase" ON "purchase_lines" USING btree ("purchase_id","position");--> statement-breakpoint
CREATE INDEX "purchases_service_status" ON "purchases" USING btree ("service_id","status_id","purchase_date");--> statement-breakpoint
CREATE INDEX "purchases_service_created" ON "purchases" USING btree ("service_id","created_at");--> statement-breakpoint
CREATE INDEX "purchases_customer" ON "purchases" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "payments_purchase" ON "payments" USING btree ("purchase_id","created_at");--> statement-breakpoint
CREATE INDEX "payments_unsettled" ON "payments" USING btree ("next_check_at") WHERE "payments"."status" in ('pending', 'unknown');--> statement-breakpoint
CREATE UNIQUE INDEX "payments_one_live_per_purchase" ON "payments" USING btree ("purchase_id") WHERE "payments"."status" in ('pending', 'unknown', 'succeeded');--> statement-breakpoint
CREATE INDEX "idempotency_keys_created" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "audit_events_entity" ON "audit_events" USING btree ("entity_type","entity_id","id");--> statement-breakpoint
CREATE INDEX "audit_events_operator" ON "audit_events" USING btree ("operator_id","id");