-- Whether a run's page batches for a domain are applied as they arrive (a
-- first sync: diff had no record of the domain and no last good run, and
-- the run is not a dry run), decided once, when the run's first page of
-- the domain comes; later attempts of the run follow that decision. Its
-- record is kept as any run's: if the run fails it goes back, and the
-- writer, which keeps what it applied, finds those accounts in place.
CREATE TABLE apply_now (
    run_id TEXT    NOT NULL,
    domain TEXT    NOT NULL,
    apply  INTEGER NOT NULL,
    PRIMARY KEY (run_id, domain)
) WITHOUT ROWID;
