-- Up Migration
-- Delivery claims: which job holds a row in 'sending', and when a retry is due.
ALTER TABLE deliveries
  ADD COLUMN next_attempt_at timestamptz,
  ADD COLUMN claimed_by text,
  ADD COLUMN claimed_at timestamptz;
CREATE INDEX deliveries_sending_idx ON deliveries (campaign_id, claimed_by) WHERE status = 'sending';
CREATE INDEX deliveries_sent_at_idx ON deliveries (campaign_id, sent_at) WHERE status = 'sent';

-- A campaign's job generation: bumped on start, resume, retry and reconcile, so re-queued
-- batches get fresh deterministic job ids while duplicates within a generation collapse.
ALTER TABLE campaigns
  ADD COLUMN generation int NOT NULL DEFAULT 0,
  ADD COLUMN audience_drawn_at timestamptz,
  ADD COLUMN recipients int NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE campaigns DROP COLUMN generation, DROP COLUMN audience_drawn_at, DROP COLUMN recipients;
DROP INDEX deliveries_sent_at_idx;
DROP INDEX deliveries_sending_idx;
ALTER TABLE deliveries DROP COLUMN next_attempt_at, DROP COLUMN claimed_by, DROP COLUMN claimed_at;
