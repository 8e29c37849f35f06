-- Aborts the statement that calls it when `ok` is false. Statements that chain several writes in
-- one autocommitted round trip (settle-payment's PAY_FAST) use it to refuse a partial outcome: an
-- exception rolls back every write the statement made.
CREATE FUNCTION payrail_assert(ok boolean, message text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION '%', message USING ERRCODE = 'P0004';
  END IF;
  RETURN true;
END $$;
--> statement-breakpoint
-- An outbox event no enabled endpoint of its operator subscribes to is dispatched as it is written:
-- the webhook job never has to claim it, and a busy operator without endpoints pays nothing for events.
-- An endpoint receives the events written after it is created or enabled (the job's fan-out decided this
-- at dispatch time; now it is decided at write time). The settlement statements (collection-sql.ts)
-- write the same rule inline and set dispatched_at themselves; this trigger covers every other insert.
CREATE FUNCTION payrail_outbox_unsubscribed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM webhook_endpoints ep
    WHERE ep.operator_id = NEW.operator_id AND ep.enabled
      AND (jsonb_array_length(ep.event_types) = 0 OR ep.event_types ? NEW.type)
  ) THEN
    NEW.dispatched_at := NEW.created_at;
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER outbox_events_unsubscribed BEFORE INSERT ON outbox_events FOR EACH ROW
  WHEN (NEW.dispatched_at IS NULL) EXECUTE FUNCTION payrail_outbox_unsubscribed();
--> statement-breakpoint
-- A service's version needs one bump per transaction that changes it: no cache can have seen the
-- transaction's intermediate states. So a purchase change skips the update when this transaction has
-- updated the service row already (its version bumped then); settling a payment, which updates the
-- service itself, then writes the row once instead of twice.
CREATE OR REPLACE FUNCTION payrail_touch_service() RETURNS trigger LANGUAGE plpgsql AS $$
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
  UPDATE services SET version = version + 1
  WHERE id IN (old_service, new_service) AND xmin <> pg_current_xact_id()::xid;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- The version trigger runs only when an update does not bump the version itself (the touch trigger and
-- settle-payment do), which spares a PL/pgSQL call per write on the collection path.
DROP TRIGGER services_version ON services;
--> statement-breakpoint
CREATE TRIGGER services_version BEFORE UPDATE ON services FOR EACH ROW
  WHEN (NEW.version = OLD.version) EXECUTE FUNCTION payrail_bump_version();
