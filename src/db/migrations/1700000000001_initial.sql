-- Up Migration
CREATE EXTENSION IF NOT EXISTS citext;

-- Settings generated on first start (SECRET_KEY, the bootstrap admin token's hash).
CREATE TABLE settings (
  key        text PRIMARY KEY,
  value      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE lists (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uuid        uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  optin       text NOT NULL DEFAULT 'single' CHECK (optin IN ('single', 'double')),
  visibility  text NOT NULL DEFAULT 'private' CHECK (visibility IN ('public', 'private')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE subscribers (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uuid       uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  email      citext NOT NULL UNIQUE,
  name       text NOT NULL DEFAULT '',
  attributes jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(attributes) = 'object'),
  status     text NOT NULL DEFAULT 'active'
             CHECK (status IN ('active', 'bounced', 'complained', 'blocklisted')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscribers_status_idx ON subscribers (status, id);

CREATE TABLE subscriptions (
  list_id       bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
  subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  status        text NOT NULL CHECK (status IN ('unconfirmed', 'confirmed', 'unsubscribed')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (list_id, subscriber_id)
);
CREATE INDEX subscriptions_subscriber_idx ON subscriptions (subscriber_id);
CREATE INDEX subscriptions_list_status_idx ON subscriptions (list_id, status, subscriber_id);

-- Consent records: every change of a subscription, with where it came from. Kept when a
-- subscription is removed; removed with the subscriber (erasure).
CREATE TABLE consent_records (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  list_id       bigint REFERENCES lists (id) ON DELETE SET NULL,
  action        text NOT NULL
                CHECK (action IN ('subscribe', 'confirm', 'unsubscribe', 'remove', 'status')),
  status        text NOT NULL,
  source        text NOT NULL
                CHECK (source IN ('api', 'import', 'form', 'preferences', 'one-click', 'webhook')),
  ip            inet,
  user_agent    text,
  detail        jsonb,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_records_subscriber_idx ON consent_records (subscriber_id, id);

CREATE TABLE templates (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text NOT NULL,
  mjml       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaigns (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uuid          uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  name          text NOT NULL,
  subject       text NOT NULL,
  template_id   bigint REFERENCES templates (id) ON DELETE RESTRICT,
  content       text,
  content_type  text NOT NULL DEFAULT 'markdown' CHECK (content_type IN ('markdown', 'mjml')),
  from_name     text,
  from_email    text,
  reply_to      text,
  data          jsonb NOT NULL DEFAULT '{}'::jsonb,
  status        text NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'cancelled',
                                  'finished', 'failed')),
  status_reason text,
  send_at       timestamptz,
  timezone      text,
  started_at    timestamptz,
  finished_at   timestamptz,
  -- Frozen at start: compiled HTML/text/subject, so later template edits change nothing.
  snapshot      jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_status_send_at_idx ON campaigns (status, send_at);

-- The order of a campaign's lists matters (`list.name` is the first list the recipient is on).
CREATE TABLE campaign_lists (
  campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  list_id     bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
  position    int NOT NULL,
  PRIMARY KEY (campaign_id, list_id)
);
CREATE INDEX campaign_lists_list_idx ON campaign_lists (list_id);

-- The delivery ledger: one row per (campaign, subscriber), ever.
CREATE TABLE deliveries (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  campaign_id   bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  subscriber_id bigint REFERENCES subscribers (id) ON DELETE SET NULL,
  status        text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'bounced',
                                  'suppressed', 'unknown')),
  attempts      int NOT NULL DEFAULT 0,
  message_id    text,
  last_error    text,
  sent_at       timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (campaign_id, subscriber_id)
);
CREATE INDEX deliveries_campaign_status_idx ON deliveries (campaign_id, status, id);
CREATE INDEX deliveries_message_id_idx ON deliveries (message_id) WHERE message_id IS NOT NULL;

CREATE TABLE events (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type              text NOT NULL CHECK (type IN ('bounce', 'complaint', 'unsubscribe',
                                                  'delivered', 'opened', 'clicked', 'confirmed')),
  bounce_type       text CHECK (bounce_type IN ('hard', 'soft')),
  source            text NOT NULL CHECK (source IN ('smtp', 'mailgun', 'sendgrid', 'ses',
                                  'postmark', 'generic', 'dsn', 'one-click', 'preferences', 'api')),
  provider_event_id text,
  campaign_id       bigint REFERENCES campaigns (id) ON DELETE SET NULL,
  subscriber_id     bigint REFERENCES subscribers (id) ON DELETE CASCADE,
  email             citext,
  reason            text,
  payload           jsonb,
  occurred_at       timestamptz NOT NULL DEFAULT now(),
  received_at       timestamptz NOT NULL DEFAULT now(),
  applied_at        timestamptz,
  UNIQUE (source, provider_event_id)
);
CREATE INDEX events_subscriber_idx ON events (subscriber_id, id);
CREATE INDEX events_unapplied_idx ON events (id) WHERE applied_at IS NULL;
CREATE INDEX events_campaign_idx ON events (campaign_id, type);

CREATE TABLE api_tokens (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         text NOT NULL,
  token_hash   bytea NOT NULL UNIQUE,
  prefix       text NOT NULL,
  scopes       text[] NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);

CREATE TABLE imports (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  list_id      bigint REFERENCES lists (id) ON DELETE CASCADE,
  mode         text NOT NULL CHECK (mode IN ('upsert', 'skip-existing')),
  status       text NOT NULL DEFAULT 'queued'
               CHECK (status IN ('receiving', 'queued', 'running', 'done', 'failed')),
  bytes        bigint NOT NULL DEFAULT 0,
  total        int NOT NULL DEFAULT 0,
  processed    int NOT NULL DEFAULT 0,
  inserted     int NOT NULL DEFAULT 0,
  updated      int NOT NULL DEFAULT 0,
  skipped      int NOT NULL DEFAULT 0,
  error_count  int NOT NULL DEFAULT 0,
  errors       jsonb NOT NULL DEFAULT '[]'::jsonb,
  failure      text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The uploaded file, in order, so that any worker on any machine can read it.
CREATE TABLE import_chunks (
  import_id bigint NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
  seq       int NOT NULL,
  data      bytea NOT NULL,
  PRIMARY KEY (import_id, seq)
);

-- Down Migration
DROP TABLE import_chunks, imports, api_tokens, events, deliveries, campaign_lists, campaigns,
  templates, consent_records, subscriptions, subscribers, lists, settings;
