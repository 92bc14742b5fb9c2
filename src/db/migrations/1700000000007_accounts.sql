-- Up Migration
-- People who sign in (docs/accounts.md). The address is unique whatever its letter case; the
-- password is a scrypt hash with its own salt and parameters (never returned or logged).
CREATE TABLE users (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email           text NOT NULL,
  name            text NOT NULL,
  roles           text[] NOT NULL CHECK (cardinality(roles) > 0),
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  password_hash   text,
  -- Two-factor sign-in: the confirmed secret (base32), the last TOTP step accepted (a code is
  -- accepted once), a secret being enrolled, and SHA-256 hashes of unused recovery codes.
  totp_secret     text,
  totp_last_step  bigint,
  totp_pending    text,
  recovery_codes  bytea[] NOT NULL DEFAULT '{}',
  -- The addresses the user last sent a test to, offered again on the next test.
  test_addresses  text[] NOT NULL DEFAULT '{}',
  last_sign_in_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Server-side sessions: only a SHA-256 of the cookie's value is stored, so a database backup
-- holds no usable session. Deleting a user ends their sessions with the rows.
CREATE TABLE sessions (
  id_hash      bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
  user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  ip           inet,
  user_agent   text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Failed sign-ins per address (lower-cased), for the per-address throttle.
CREATE TABLE sign_in_failures (
  email_key text NOT NULL,
  failed_at timestamptz NOT NULL
);
CREATE INDEX sign_in_failures_key_idx ON sign_in_failures (email_key, failed_at);

-- One-time links: set a password (a user made without one, or a reset) and the first-account
-- setup link. The token is signed; only its SHA-256 is stored, with its expiry and use.
CREATE TABLE account_links (
  token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
  purpose    text NOT NULL CHECK (purpose IN ('set-password', 'setup')),
  user_id    bigint REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Who did what. Append-only: the trigger refuses every UPDATE and DELETE.
CREATE TABLE audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor_type  text NOT NULL CHECK (actor_type IN ('user', 'token', 'system')),
  actor_id    bigint,
  actor_name  text NOT NULL,
  action      text NOT NULL,
  entity_type text NOT NULL,
  entity_id   text,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_type, actor_id, id);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- The two-person rule (docs/approval.md). Actors are {type, id, name}. The fingerprint is a
-- SHA-256 of exactly what was approved; any change to it voids the approval.
ALTER TABLE campaigns
  ADD COLUMN approval_status       text NOT NULL DEFAULT 'none'
        CHECK (approval_status IN ('none', 'pending', 'approved', 'rejected')),
  ADD COLUMN approval_requested_by jsonb,
  ADD COLUMN approval_requested_at timestamptz,
  ADD COLUMN approval_decided_by   jsonb,
  ADD COLUMN approval_decided_at   timestamptz,
  ADD COLUMN approval_note         text,
  ADD COLUMN approval_fingerprint  text,
  ADD COLUMN last_edited_by        jsonb;

-- Down Migration
ALTER TABLE campaigns
  DROP COLUMN approval_status, DROP COLUMN approval_requested_by,
  DROP COLUMN approval_requested_at, DROP COLUMN approval_decided_by,
  DROP COLUMN approval_decided_at, DROP COLUMN approval_note,
  DROP COLUMN approval_fingerprint, DROP COLUMN last_edited_by;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE account_links, sign_in_failures, sessions, users;
