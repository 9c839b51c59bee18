-- A city admin can suspend an account (abuse, a compromised staff member): its sessions are refused on
-- the next request (the per-request session check joins users) and it cannot log in until reinstated.
ALTER TABLE users ADD COLUMN suspended_at timestamptz;
