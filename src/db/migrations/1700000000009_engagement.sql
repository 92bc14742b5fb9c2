-- Up Migration
-- Engagement and the archive (docs/engagement.md). Tracking is chosen per campaign; the public
-- archive shows a campaign under a slug of its own (unique whatever its letter case).
ALTER TABLE campaigns
  ADD COLUMN track_opens  boolean NOT NULL DEFAULT false,
  ADD COLUMN track_clicks boolean NOT NULL DEFAULT false,
  ADD COLUMN archive      boolean NOT NULL DEFAULT false,
  ADD COLUMN archive_slug text CHECK (archive_slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  -- Totals of tracking events removed by the retention (TRACKING_RETENTION_DAYS): the report
  -- adds them to what is still stored, so a campaign's counts survive the raw events.
  ADD COLUMN retained_counts jsonb NOT NULL DEFAULT '{}'::jsonb;
CREATE UNIQUE INDEX campaigns_archive_slug_key ON campaigns (archive_slug);

-- Opens and clicks are events like the others, with the delivery and the link they concern
-- and whether a machine (a proxy, a scanner, a prefetch) made them rather than a person.
ALTER TABLE events DROP CONSTRAINT events_source_check;
ALTER TABLE events ADD CONSTRAINT events_source_check
  CHECK (source IN ('smtp', 'mailgun', 'sendgrid', 'ses', 'postmark', 'generic', 'dsn',
                    'one-click', 'preferences', 'api', 'tracking'));
ALTER TABLE events
  ADD COLUMN delivery_id    bigint REFERENCES deliveries (id) ON DELETE CASCADE,
  ADD COLUMN link_index     int,
  ADD COLUMN machine        boolean NOT NULL DEFAULT false,
  ADD COLUMN machine_reason text;
CREATE INDEX events_delivery_idx ON events (delivery_id, type) WHERE delivery_id IS NOT NULL;
CREATE INDEX events_tracking_age_idx ON events (occurred_at) WHERE source = 'tracking';

-- Down Migration
DROP INDEX events_tracking_age_idx;
DROP INDEX events_delivery_idx;
ALTER TABLE events DROP COLUMN machine_reason, DROP COLUMN machine, DROP COLUMN link_index,
  DROP COLUMN delivery_id;
DELETE FROM events WHERE source = 'tracking';
ALTER TABLE events DROP CONSTRAINT events_source_check;
ALTER TABLE events ADD CONSTRAINT events_source_check
  CHECK (source IN ('smtp', 'mailgun', 'sendgrid', 'ses', 'postmark', 'generic', 'dsn',
                    'one-click', 'preferences', 'api'));
DROP INDEX campaigns_archive_slug_key;
ALTER TABLE campaigns DROP COLUMN retained_counts, DROP COLUMN archive_slug, DROP COLUMN archive,
  DROP COLUMN track_clicks, DROP COLUMN track_opens;
