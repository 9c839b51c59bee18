-- A retried upload of the same file to the same report returns the first attachment instead of a
-- second copy (uploads are multipart, so they are deduplicated by content rather than by key).
ALTER TABLE feedback_attachments ADD COLUMN source_sha256 text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX feedback_attachments_source ON feedback_attachments (report_id, kind, source_sha256)
    WHERE source_sha256 <> '';
