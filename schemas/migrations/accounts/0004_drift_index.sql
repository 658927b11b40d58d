-- Drift (accounts deactivated locally that the directory still has
-- enabled) is counted at the end of every domain's run: a small partial
-- index instead of a scan of every account (about 20 ms at 100,000).
CREATE INDEX accounts_drift ON accounts (domain) WHERE deactivated_by = 'local' AND directory_active = 1;
