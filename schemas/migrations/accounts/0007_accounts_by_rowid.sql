-- Accounts move from a table keyed by (domain, external_id) (WITHOUT ROWID)
-- to a rowid table with a unique index on that key. Directory ids are
-- random (objectGUID), and an account row is a few hundred bytes: inserting
-- accounts in id order dirtied about one page of the table per account, and
-- a first sync of 100,000 Active Directory users wrote hundreds of
-- megabytes to the write-ahead log. A rowid table is appended to; only the
-- small index entries go to random places. Same columns, same constraints.
CREATE TABLE accounts_by_rowid (
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

INSERT INTO accounts_by_rowid (domain, external_id, username, local_name, upn, email, display_name, given_name, surname, dn,
    active, inactive_reason, deactivated_by, local_note, directory_active, directory_reason, version, created_at, updated_at,
    deactivated_at, last_run_id)
SELECT domain, external_id, username, local_name, upn, email, display_name, given_name, surname, dn,
    active, inactive_reason, deactivated_by, local_note, directory_active, directory_reason, version, created_at, updated_at,
    deactivated_at, last_run_id
FROM accounts ORDER BY domain, external_id;

DROP TABLE accounts;
ALTER TABLE accounts_by_rowid RENAME TO accounts;

CREATE UNIQUE INDEX accounts_id ON accounts (domain, external_id);
CREATE INDEX accounts_username ON accounts (domain, username, external_id);
-- No account ever takes over another's identity: local names are unique.
CREATE UNIQUE INDEX accounts_local_name ON accounts (local_name);
CREATE INDEX accounts_drift ON accounts (domain) WHERE deactivated_by = 'local' AND directory_active = 1;
