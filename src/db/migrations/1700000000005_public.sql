-- Up Migration
-- Addresses erased at their owner's request. Only a SHA-256 of the normalised, lower-cased
-- address is kept, so an import or the public form cannot silently add the person back.
CREATE TABLE suppressions (
  email_hash bytea PRIMARY KEY CHECK (octet_length(email_hash) = 32),
  reason     text NOT NULL CHECK (reason IN ('erased')),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- When the last double opt-in confirmation mail went to a subscriber: at most one a day, so the
-- public form cannot be used to flood someone's inbox.
CREATE TABLE confirmation_mails (
  subscriber_id bigint PRIMARY KEY REFERENCES subscribers (id) ON DELETE CASCADE,
  sent_at       timestamptz NOT NULL DEFAULT now()
);

-- Rows an import skipped because the address is suppressed (shown with the import's counts).
ALTER TABLE imports ADD COLUMN suppressed int NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE imports DROP COLUMN suppressed;
DROP TABLE confirmation_mails, suppressions;
