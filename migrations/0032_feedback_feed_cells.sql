-- Public feed near a point at city scale. The (lat, lon) partial index answers "public reports in a
-- box, newest first" by scanning every public report in the box's latitude band and sorting them:
-- fine for thousands of reports, not for 10 M (a 1 km box in central Hanoi holds thousands, a 5 km one
-- tens of thousands). This index keys public reports by a grid cell of 0.01° (about 1.1 × 1.0 km) and
-- orders each cell newest first, so the feed reads at most one page per cell of the box (domain
-- feedback.geo.index_cells) and lat/lon come from the index itself. The cell expression must stay
-- identical to INDEX_CELL_SQL in adapters/postgres/feedback.py.
CREATE INDEX IF NOT EXISTS feedback_reports_public_cell ON feedback_reports
    ((floor(lat * 100)::bigint * 100000 + floor(lon * 100)::bigint), id DESC) INCLUDE (lat, lon)
    WHERE status = 'handled' AND publishable AND NOT hidden;
DROP INDEX feedback_reports_public_geo;
