-- Up Migration
-- Imports written by lanes (src/domain/import-lanes.ts): each lane resumes from its own count
-- in lane_processed, and a run holds the import by its run_token, so a second run of the same
-- import takes it over and the first one's next write fails instead of writing twice.
ALTER TABLE imports
  ADD COLUMN lanes int NOT NULL DEFAULT 1 CHECK (lanes BETWEEN 1 AND 16),
  ADD COLUMN lane_processed bigint[] NOT NULL DEFAULT '{}',
  ADD COLUMN run_token uuid;
-- Imports not finished yet keep the one lane they began with: their progress is a prefix of
-- the file.
UPDATE imports SET lane_processed = ARRAY[processed::bigint]
 WHERE status IN ('receiving', 'queued', 'running');

-- Down Migration
ALTER TABLE imports DROP COLUMN run_token, DROP COLUMN lane_processed, DROP COLUMN lanes;
