-- Whether a run's page batches for a domain are applied as they arrive (a
-- first sync: diff had no record of the domain and no last good run, and
-- the run is not a dry run), decided once, when the run's first page of
-- the domain comes; later attempts of the run follow that decision. The
-- entries of such a run are recorded for good (no undo): the writer keeps
-- what it applied whatever the run's outcome.
CREATE TABLE apply_now (
    run_id TEXT    NOT NULL,
    domain TEXT    NOT NULL,
    apply  INTEGER NOT NULL,
    PRIMARY KEY (run_id, domain)
) WITHOUT ROWID;
