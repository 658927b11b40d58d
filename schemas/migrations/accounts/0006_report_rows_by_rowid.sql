-- A run's report rows are found by run and domain; the row of an account
-- that a plan holds twice (0003) is found through plan_accounts, which
-- keeps its rowid. An index on the account's id as well cost every report
-- row an insert at a random place (directory ids): about a twentieth of
-- applying a first sync.
DROP INDEX run_changes_run;
CREATE INDEX run_changes_run ON run_changes (run_id, domain);
ALTER TABLE plan_accounts ADD COLUMN report_rowid INTEGER;
