ALTER TABLE "operators" ADD COLUMN "version" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "version" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "version" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "version" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Read-model versions. details-and-actions is cached per process and revalidated with one indexed
-- lookup of these counters, so every change to what it shows must bump one of them — whichever process,
-- code path or manual fix made the change. Triggers make that a property of the database, not of code.
-- Lock order they imply: a purchase/medium/price row first, then the service/customer/product row.
CREATE FUNCTION payrail_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.version = OLD.version THEN
    NEW.version := OLD.version + 1;
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER operators_version BEFORE UPDATE ON operators FOR EACH ROW EXECUTE FUNCTION payrail_bump_version();
--> statement-breakpoint
CREATE TRIGGER products_version BEFORE UPDATE ON products FOR EACH ROW EXECUTE FUNCTION payrail_bump_version();
--> statement-breakpoint
CREATE TRIGGER customers_version BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION payrail_bump_version();
--> statement-breakpoint
CREATE TRIGGER services_version BEFORE UPDATE ON services FOR EACH ROW EXECUTE FUNCTION payrail_bump_version();
--> statement-breakpoint
CREATE FUNCTION payrail_touch_service() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_service uuid;
  new_service uuid;
BEGIN
  IF TG_TABLE_NAME = 'purchase_lines' THEN
    IF TG_OP <> 'INSERT' THEN SELECT service_id INTO old_service FROM purchases WHERE id = OLD.purchase_id; END IF;
    IF TG_OP <> 'DELETE' THEN SELECT service_id INTO new_service FROM purchases WHERE id = NEW.purchase_id; END IF;
  ELSE -- purchases, purchase_plans
    IF TG_OP <> 'INSERT' THEN old_service := OLD.service_id; END IF;
    IF TG_OP <> 'DELETE' THEN new_service := NEW.service_id; END IF;
  END IF;
  UPDATE services SET version = version + 1 WHERE id IN (old_service, new_service);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER purchases_touch_service AFTER INSERT OR UPDATE OR DELETE ON purchases FOR EACH ROW EXECUTE FUNCTION payrail_touch_service();
--> statement-breakpoint
CREATE TRIGGER purchase_lines_touch_service AFTER INSERT OR UPDATE OR DELETE ON purchase_lines FOR EACH ROW EXECUTE FUNCTION payrail_touch_service();
--> statement-breakpoint
CREATE TRIGGER purchase_plans_touch_service AFTER INSERT OR UPDATE OR DELETE ON purchase_plans FOR EACH ROW EXECUTE FUNCTION payrail_touch_service();
--> statement-breakpoint
CREATE FUNCTION payrail_touch_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE customers SET version = version + 1
   WHERE id IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.customer_id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.customer_id END);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER mediums_touch_customer AFTER INSERT OR UPDATE OR DELETE ON mediums FOR EACH ROW EXECUTE FUNCTION payrail_touch_customer();
--> statement-breakpoint
CREATE FUNCTION payrail_touch_product() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE products SET version = version + 1
   WHERE id IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.product_id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.product_id END);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER product_prices_touch_product AFTER INSERT OR UPDATE OR DELETE ON product_prices FOR EACH ROW EXECUTE FUNCTION payrail_touch_product();
