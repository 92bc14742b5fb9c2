-- Up Migration
-- Addresses are unique case-insensitively through a lower-cased key with a plain unique index
-- (docs/performance.md, "Import"). The citext unique index it replaces lower-cased both sides
-- of every comparison inside the index: about a third of an import's time.
--
-- citext → text is binary-coercible, so the type change rewrites nothing; the stored key is
-- computed once per row write. Its "C" collation compares bytes: the key is already
-- lower-cased, so only equality matters.
ALTER TABLE subscribers DROP CONSTRAINT subscribers_email_key;
ALTER TABLE subscribers ALTER COLUMN email TYPE text;
ALTER TABLE subscribers
  ADD COLUMN email_key text COLLATE "C" GENERATED ALWAYS AS (lower(email)) STORED;
ALTER TABLE subscribers ADD CONSTRAINT subscribers_email_key UNIQUE (email_key);

-- Events that carry an address without a subscriber are matched with lower() on both sides.
ALTER TABLE events ALTER COLUMN email TYPE text;

-- Down Migration
ALTER TABLE events ALTER COLUMN email TYPE citext;
ALTER TABLE subscribers DROP CONSTRAINT subscribers_email_key;
ALTER TABLE subscribers DROP COLUMN email_key;
ALTER TABLE subscribers ALTER COLUMN email TYPE citext;
ALTER TABLE subscribers ADD CONSTRAINT subscribers_email_key UNIQUE (email);
