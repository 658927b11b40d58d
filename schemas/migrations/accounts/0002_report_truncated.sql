-- Rows of a run's per-account report that were not listed because the run
-- reached accounts.report_max_rows (the counts stay exact; failures are
-- always listed): a cut-off report says it is incomplete.
CREATE TABLE run_report_truncated (
    run_id TEXT    NOT NULL,
    domain TEXT    NOT NULL,
    rows   INTEGER NOT NULL,
    PRIMARY KEY (run_id, domain)
) WITHOUT ROWID;
