-- Duplicate suggestions at city scale ("same category within ~100 m in the last 30 days", asked before
-- every submission). The (category_id, created_at) index made that read every report of the category
-- from the last 30 days in the whole city — tens of thousands once the city has 10 M reports. This
-- index adds the report's 0.01° index cell after the category, so the query reads only the 1–4 cells
-- a 100 m box touches (domain feedback.geo.index_cells; expression = INDEX_CELL_SQL in
-- adapters/postgres/feedback.py), newest first, lat/lon from the index. The (category_id, created_at)
-- index stays: Open311 and staff search filter by category and period without a place.
CREATE INDEX IF NOT EXISTS feedback_reports_category_cell ON feedback_reports
    (category_id, (floor(lat * 100)::bigint * 100000 + floor(lon * 100)::bigint), created_at DESC)
    INCLUDE (lat, lon);
