-- The console's filters for inactive accounts (by reason, on local hold)
-- read only the inactive ones, which are few: without it, "inactive" read
-- every account (0.3-0.4 s at 1,000,000). Active accounts are not in it,
-- so a first sync, which creates active accounts, does not write it.
CREATE INDEX accounts_inactive ON accounts (inactive_reason, deactivated_by) WHERE active = 0;
