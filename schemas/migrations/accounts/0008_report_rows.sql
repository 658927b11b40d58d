-- How many rows a run's per-account report holds, kept as the writer adds
-- them: the report is bounded (accounts.report_max_rows), and a first sync
-- applied as it reads adds rows in a transaction per page, each of which
-- counted the run's rows again (a million-user first sync: 400 counts of
-- up to 100,000 rows). A run without a row here is counted once.
CREATE TABLE run_report_rows (
    run_id TEXT    PRIMARY KEY,
    rows   INTEGER NOT NULL
) WITHOUT ROWID;

-- A batch applied on its own (a first sync's page as it arrives) counts the
-- accounts it found already as the directory has them: created by a first
-- sync that failed after (diff took its record back, the accounts stayed).
ALTER TABLE applied_batches ADD COLUMN unchanged INTEGER NOT NULL DEFAULT 0;
