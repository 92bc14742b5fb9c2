-- Up Migration
-- Per-campaign delivery counters kept with the ledger writes (docs/campaigns.md, "Progress"):
-- the campaign's GET and the console read a few counter rows instead of counting a ledger of
-- 100,000 rows on every poll.
--
-- Statement triggers with transition tables add each statement's net change per status in the
-- same transaction as the change, so the counters agree with the ledger in every snapshot.
-- Each database backend writes rows of its own (`backend` = its pid): windows of one campaign
-- written at once by many connections never wait for one another's counter rows and can never
-- deadlock on them. A campaign's count is the sum over its few backend rows.
CREATE TABLE delivery_counts (
  campaign_id bigint NOT NULL,
  status      text NOT NULL,
  backend     int NOT NULL,
  n           bigint NOT NULL,
  PRIMARY KEY (campaign_id, status, backend)
);

-- Rows `sent` per campaign and minute of their sent_at: the send rate over the last minute
-- without reading the minute's ledger rows (the same rows as `status = 'sent' AND sent_at
-- >= …` would count, to the minute).
CREATE TABLE delivery_sent_minutes (
  campaign_id bigint NOT NULL,
  minute      timestamptz NOT NULL,
  backend     int NOT NULL,
  n           bigint NOT NULL,
  PRIMARY KEY (campaign_id, minute, backend)
);

CREATE FUNCTION delivery_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO delivery_counts (campaign_id, status, backend, n)
  SELECT campaign_id, status, pg_backend_pid(), count(*) FROM new_rows GROUP BY 1, 2
  ON CONFLICT (campaign_id, status, backend) DO UPDATE SET n = delivery_counts.n + EXCLUDED.n;
  INSERT INTO delivery_sent_minutes (campaign_id, minute, backend, n)
  SELECT campaign_id, date_trunc('minute', sent_at), pg_backend_pid(), count(*)
    FROM new_rows WHERE status = 'sent' AND sent_at IS NOT NULL GROUP BY 1, 2
  ON CONFLICT (campaign_id, minute, backend)
    DO UPDATE SET n = delivery_sent_minutes.n + EXCLUDED.n;
  RETURN NULL;
END $$;

-- Rows deleted with their campaign (the cascade) change nothing: the campaign's counters go
-- with it (delivery_counts_forget), and no row of a campaign that is gone is written again.
CREATE FUNCTION delivery_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO delivery_counts (campaign_id, status, backend, n)
  SELECT o.campaign_id, o.status, pg_backend_pid(), -count(*) FROM old_rows o
   WHERE EXISTS (SELECT 1 FROM campaigns c WHERE c.id = o.campaign_id)
   GROUP BY 1, 2
  ON CONFLICT (campaign_id, status, backend) DO UPDATE SET n = delivery_counts.n + EXCLUDED.n;
  INSERT INTO delivery_sent_minutes (campaign_id, minute, backend, n)
  SELECT o.campaign_id, date_trunc('minute', o.sent_at), pg_backend_pid(), -count(*)
    FROM old_rows o
   WHERE o.status = 'sent' AND o.sent_at IS NOT NULL
     AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = o.campaign_id)
   GROUP BY 1, 2
  ON CONFLICT (campaign_id, minute, backend)
    DO UPDATE SET n = delivery_sent_minutes.n + EXCLUDED.n;
  RETURN NULL;
END $$;

CREATE FUNCTION delivery_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO delivery_counts (campaign_id, status, backend, n)
  SELECT campaign_id, status, pg_backend_pid(), sum(d) FROM (
    SELECT campaign_id, status, -1 AS d FROM old_rows
    UNION ALL
    SELECT campaign_id, status, 1 FROM new_rows
  ) change
  GROUP BY 1, 2 HAVING sum(d) <> 0
  ON CONFLICT (campaign_id, status, backend) DO UPDATE SET n = delivery_counts.n + EXCLUDED.n;
  INSERT INTO delivery_sent_minutes (campaign_id, minute, backend, n)
  SELECT campaign_id, minute, pg_backend_pid(), sum(d) FROM (
    SELECT campaign_id, date_trunc('minute', sent_at) AS minute, -1 AS d
      FROM old_rows WHERE status = 'sent' AND sent_at IS NOT NULL
    UNION ALL
    SELECT campaign_id, date_trunc('minute', sent_at), 1
      FROM new_rows WHERE status = 'sent' AND sent_at IS NOT NULL
  ) change
  GROUP BY 1, 2 HAVING sum(d) <> 0
  ON CONFLICT (campaign_id, minute, backend)
    DO UPDATE SET n = delivery_sent_minutes.n + EXCLUDED.n;
  RETURN NULL;
END $$;

CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_insert();
CREATE TRIGGER deliveries_count_update AFTER UPDATE ON deliveries
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_update();
CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_delete();

-- A deleted campaign's counters go with it.
CREATE FUNCTION delivery_counts_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM delivery_counts WHERE campaign_id IN (SELECT id FROM gone);
  DELETE FROM delivery_sent_minutes WHERE campaign_id IN (SELECT id FROM gone);
  RETURN NULL;
END $$;
CREATE TRIGGER campaigns_forget_counts AFTER DELETE ON campaigns
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_forget();

-- The ledger as it is now (backend 0: the migration's own rows).
INSERT INTO delivery_counts (campaign_id, status, backend, n)
SELECT campaign_id, status, 0, count(*) FROM deliveries GROUP BY 1, 2;
INSERT INTO delivery_sent_minutes (campaign_id, minute, backend, n)
SELECT campaign_id, date_trunc('minute', sent_at), 0, count(*)
  FROM deliveries WHERE status = 'sent' AND sent_at IS NOT NULL GROUP BY 1, 2;

-- Down Migration
DROP TRIGGER campaigns_forget_counts ON campaigns;
DROP TRIGGER deliveries_count_delete ON deliveries;
DROP TRIGGER deliveries_count_update ON deliveries;
DROP TRIGGER deliveries_count_insert ON deliveries;
DROP FUNCTION delivery_counts_forget();
DROP FUNCTION delivery_counts_update();
DROP FUNCTION delivery_counts_delete();
DROP FUNCTION delivery_counts_insert();
DROP TABLE delivery_sent_minutes;
DROP TABLE delivery_counts;
