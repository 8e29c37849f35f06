-- A billing run's slice writes ten thousand purchases and lines in one statement and bumps the version of
-- each service it bills itself (BILL_MONTH, in the same statement). The statement-level triggers that bump
-- the versions of the services of written purchases and lines (migration 0009) then find nothing to do,
-- but finding that out joined every written row again, and the lines' trigger looked up their purchases
-- by a plan that grew with the purchases table: a tenth of a slice at a million services. A transaction
-- that bumps its services' versions itself says so (SET LOCAL payrail.versions_bumped = 'on'), and the
-- triggers leave it to it. Every other writer is unchanged.
CREATE OR REPLACE FUNCTION payrail_touch_services_of_purchases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('payrail.versions_bumped', true) = 'on' THEN
    RETURN NULL;
  END IF;
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
CREATE OR REPLACE FUNCTION payrail_touch_services_of_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('payrail.versions_bumped', true) = 'on' THEN
    RETURN NULL;
  END IF;
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
