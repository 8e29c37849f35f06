-- The outbox holds what is to be delivered: an event that no enabled endpoint of its operator takes is no
-- longer written at all (webhooks/outbox-sql.ts). Written dispatched, it was never sent, never read, and
-- cost a row, two index entries and a foreign-key check: a sixth of a billing run of a million services.
-- Reinstatement (migrations 0007, 0021), writing its service.reinstated event under the new rule.
CREATE OR REPLACE FUNCTION payrail_reinstate_service() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  event_id uuid := gen_random_uuid();
  at timestamptz := clock_timestamp();
BEGIN
  NEW.status := 'Active';
  NEW.suspension_date := NULL;
  -- The months it was suspended are not billed: monthly billing resumes on the first collection date on
  -- or after the day it was reinstated (the day of the update, as the application's clock stamped it).
  IF NEW.billed_through IS NOT NULL AND NEW.collection_day IS NOT NULL THEN
    NEW.billed_through := greatest(NEW.billed_through,
      payrail_next_collection_date(((NEW.updated_at AT TIME ZONE 'UTC') + interval '2 hours')::date - 1, NEW.collection_day));
  END IF;
  IF EXISTS (
    SELECT 1 FROM webhook_endpoints ep
    WHERE ep.operator_id = NEW.operator_id AND ep.enabled AND (jsonb_array_length(ep.event_types) = 0 OR ep.event_types ? 'service.reinstated')
  ) THEN
    INSERT INTO outbox_events (id, operator_id, type, payload, created_at)
    VALUES (event_id, NEW.operator_id, 'service.reinstated', jsonb_build_object(
      'id', event_id,
      'type', 'service.reinstated',
      'created_at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'data', jsonb_build_object('service_id', NEW.id, 'customer_id', NEW.customer_id, 'service_status', 'Active',
        'billing_status', NEW.billing_status, 'latest_period_end_date', NEW.latest_period_end_date)
    ), at);
  END IF;
  RETURN NEW;
END $$;
