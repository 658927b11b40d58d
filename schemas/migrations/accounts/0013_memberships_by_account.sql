-- Memberships are keyed by the account's integer id instead of its
-- directory id. account_groups began with (domain, account_id): objectGUIDs
-- are random, so a first sync of users in groups inserted every membership
-- at a random place (2.2 s of account-writer's CPU for 300,000 of them at
-- 100,000 users), and reading an account's groups, for each SCIM user or
-- console row, was a random read. Accounts get an explicit INTEGER PRIMARY
-- KEY, their rowid so far (VACUUM keeps an explicit one, not an implicit
-- one); new accounts take increasing ids, so a first sync appends its
-- memberships, and a listing in name order reads them about in order.
CREATE TABLE accounts_with_id (
    id               INTEGER PRIMARY KEY,
    domain           TEXT    NOT NULL,
    external_id      TEXT    NOT NULL,
    username         TEXT    NOT NULL,
    local_name       TEXT    NOT NULL,
    upn              TEXT    NOT NULL DEFAULT '',
    email            TEXT    NOT NULL DEFAULT '',
    display_name     TEXT    NOT NULL DEFAULT '',
    given_name       TEXT    NOT NULL DEFAULT '',
    surname          TEXT    NOT NULL DEFAULT '',
    dn               TEXT    NOT NULL DEFAULT '',
    active           INTEGER NOT NULL,
    inactive_reason  TEXT    NOT NULL DEFAULT '',
    deactivated_by   TEXT    NOT NULL DEFAULT '',
    local_note       TEXT    NOT NULL DEFAULT '',
    directory_active INTEGER NOT NULL DEFAULT 1,
    directory_reason TEXT    NOT NULL DEFAULT '',
    version          INTEGER NOT NULL,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    deactivated_at   TEXT    NOT NULL DEFAULT '',
    last_run_id      TEXT    NOT NULL DEFAULT ''
);

INSERT INTO accounts_with_id (id, domain, external_id, username, local_name, upn, email, display_name, given_name, surname, dn,
    active, inactive_reason, deactivated_by, local_note, directory_active, directory_reason, version, created_at, updated_at,
    deactivated_at, last_run_id)
SELECT rowid, domain, external_id, username, local_name, upn, email, display_name, given_name, surname, dn,
    active, inactive_reason, deactivated_by, local_note, directory_active, directory_reason, version, created_at, updated_at,
    deactivated_at, last_run_id
FROM accounts ORDER BY rowid;

DROP TABLE accounts;
ALTER TABLE accounts_with_id RENAME TO accounts;

CREATE UNIQUE INDEX accounts_id ON accounts (domain, external_id);
CREATE INDEX accounts_username ON accounts (domain, username, external_id);
CREATE UNIQUE INDEX accounts_local_name ON accounts (local_name);
CREATE INDEX accounts_drift ON accounts (domain) WHERE deactivated_by = 'local' AND directory_active = 1;
CREATE INDEX accounts_local_name_nocase ON accounts (local_name COLLATE NOCASE);
CREATE INDEX accounts_inactive ON accounts (inactive_reason, deactivated_by) WHERE active = 0;
CREATE INDEX accounts_updated ON accounts (updated_at);

CREATE TABLE memberships (
    account  INTEGER NOT NULL,  -- accounts.id
    domain   TEXT    NOT NULL,  -- the account's and the group's
    group_id TEXT    NOT NULL,  -- groups.external_id
    PRIMARY KEY (account, group_id)
) WITHOUT ROWID;

INSERT INTO memberships (account, domain, group_id)
SELECT a.id, m.domain, m.group_id FROM account_groups m JOIN accounts a ON a.domain = m.domain AND a.external_id = m.account_id
ORDER BY a.id, m.group_id;

-- With it goes its index by group (account_groups_by_group), built again
-- after the next run as memberships_by_group (deferred_index_sqlite.go).
DROP TABLE account_groups;
