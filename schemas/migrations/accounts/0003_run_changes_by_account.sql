-- A run's report row of one account is found by its id: when a plan holds
-- the same account from two attempts of the read (a batch whose publication
-- was stored although the publisher never heard so, then the read again),
-- the account is applied and reported once, with its newest change.
DROP INDEX run_changes_run;
CREATE INDEX run_changes_run ON run_changes (run_id, domain, external_id);

-- The accounts a plan being applied has changed (the writer's one
-- connection; emptied before each plan).
CREATE TABLE plan_accounts (
    domain      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    PRIMARY KEY (domain, external_id)
) WITHOUT ROWID;
