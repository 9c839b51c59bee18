-- Indexes for three reads that scanned their whole table (found by tests/integration/test_query_plans.py,
-- which EXPLAINs every statement the API sends):
-- the personal-data export lists every session of the person, revoked ones included (sessions_user_active
-- holds only live ones), and sessions grow with every login of 10 M citizens;
CREATE INDEX sessions_user_all ON sessions (user_id, created_at);
-- the city admin's lists of API clients (one per facility and per gate validator: thousands) and of
-- Open311 partner keys are paged in creation order.
CREATE INDEX api_clients_created ON api_clients (created_at, id);
CREATE INDEX open311_keys_created ON open311_keys (created_at, id);
