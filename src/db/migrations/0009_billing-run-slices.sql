CREATE TABLE "billing_run_slices" (
	"run_id" uuid NOT NULL,
	"after_id" uuid NOT NULL,
	"upto_id" uuid NOT NULL,
	"purchases_created" integer NOT NULL,
	"collections_started" integer NOT NULL,
	"finished_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "billing_run_slices_pk" PRIMARY KEY("run_id","after_id")
);
--> statement-breakpoint
DROP INDEX "services_billing_due";--> statement-breakpoint
ALTER TABLE "billing_run_slices" ADD CONSTRAINT "billing_run_slices_run_id_billing_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."billing_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Room on each page of services for its monthly update to stay there (a HOT update writes no index
-- entry): a billing run updates every service it bills.
ALTER TABLE services SET (fillfactor = 85);
--> statement-breakpoint
-- A purchase or line written bumps its service's version once per statement instead of once per row:
-- a billing run writes a hundred thousand purchases in one statement, and a PL/pgSQL call and an index
-- look-up per row were a fifth of its time. Same rule as before (migration 0004): no bump for a service
-- this transaction has updated already. Transition tables allow one event per trigger, hence three.
DROP TRIGGER purchases_touch_service ON purchases;
--> statement-breakpoint
DROP TRIGGER purchase_lines_touch_service ON purchase_lines;
--> statement-breakpoint
CREATE FUNCTION payrail_touch_services_of_purchases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE services SET version = version + 1
    WHERE id IN (SELECT service_id FROM new_rows) AND xmin <> pg_current_xact_id()::xid;
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE services SET version = version + 1
    WHERE id IN (SELECT service_id FROM new_rows UNION SELECT service_id FROM old_rows) AND xmin <> pg_current_xact_id()::xid;
  ELSE
    UPDATE services SET version = version + 1
    WHERE id IN (SELECT service_id FROM old_rows) AND xmin <> pg_current_xact_id()::xid;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION payrail_touch_services_of_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE services SET version = version + 1
    WHERE id IN (SELECT p.service_id FROM purchases p WHERE p.id IN (SELECT purchase_id FROM new_rows)) AND xmin <> pg_current_xact_id()::xid;
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE services SET version = version + 1
    WHERE id IN (SELECT p.service_id FROM purchases p WHERE p.id IN (SELECT purchase_id FROM new_rows UNION SELECT purchase_id FROM old_rows))
      AND xmin <> pg_current_xact_id()::xid;
  ELSE
    -- A deleted line's purchase may be deleted in the same statement: then the purchase's own trigger bumps.
    UPDATE services SET version = version + 1
    WHERE id IN (SELECT p.service_id FROM purchases p WHERE p.id IN (SELECT purchase_id FROM old_rows)) AND xmin <> pg_current_xact_id()::xid;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER purchases_touch_services_insert AFTER INSERT ON purchases
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payrail_touch_services_of_purchases();
--> statement-breakpoint
CREATE TRIGGER purchases_touch_services_update AFTER UPDATE ON purchases
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payrail_touch_services_of_purchases();
--> statement-breakpoint
CREATE TRIGGER purchases_touch_services_delete AFTER DELETE ON purchases
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION payrail_touch_services_of_purchases();
--> statement-breakpoint
CREATE TRIGGER purchase_lines_touch_services_insert AFTER INSERT ON purchase_lines
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payrail_touch_services_of_lines();
--> statement-breakpoint
CREATE TRIGGER purchase_lines_touch_services_update AFTER UPDATE ON purchase_lines
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payrail_touch_services_of_lines();
--> statement-breakpoint
CREATE TRIGGER purchase_lines_touch_services_delete AFTER DELETE ON purchase_lines
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION payrail_touch_services_of_lines();
--> statement-breakpoint
-- A time-ordered UUID (version 7: 48 bits of Unix milliseconds, then random bits) for rows written in bulk.
-- Random (version 4) keys put each of a billing run's million purchases, lines and events on a random page
-- of their indexes; time-ordered keys append them, so the indexes' working set stays in memory.
CREATE FUNCTION payrail_uuid7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;
