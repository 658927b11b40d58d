-- The local accounts that account-writer keeps in step with the directories.
-- An account is never deleted: a user gone from the directory is deactivated.
CREATE TABLE accounts (
    domain          TEXT    NOT NULL,
    external_id     TEXT    NOT NULL,           -- objectGUID / entryUUID
    username        TEXT    NOT NULL,
    upn             TEXT    NOT NULL DEFAULT '',
    email           TEXT    NOT NULL DEFAULT '',
    display_name    TEXT    NOT NULL DEFAULT '',
    given_name      TEXT    NOT NULL DEFAULT '',
    surname         TEXT    NOT NULL DEFAULT '',
    dn              TEXT    NOT NULL DEFAULT '',
    groups          TEXT    NOT NULL DEFAULT '[]', -- JSON array of group DNs
    active          INTEGER NOT NULL,
    inactive_reason TEXT    NOT NULL DEFAULT '', -- directory-disabled, directory-removed, expired, local…
    deactivated_by  TEXT    NOT NULL DEFAULT '', -- "sync" or "local"
    version         INTEGER NOT NULL,            -- directory observation time (ns) of the applied state
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    deactivated_at  TEXT    NOT NULL DEFAULT '',
    last_run_id     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (domain, external_id)
) WITHOUT ROWID;

CREATE INDEX accounts_username ON accounts (domain, username, external_id);

-- Batches of changes already applied: a redelivered batch is applied once.
CREATE TABLE applied_batches (
    message_id  TEXT    PRIMARY KEY,
    run_id      TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    deactivated INTEGER NOT NULL,
    reactivated INTEGER NOT NULL,
    skipped     INTEGER NOT NULL,                -- older than the account (version guard)
    applied_at  TEXT    NOT NULL
) WITHOUT ROWID;

CREATE INDEX applied_batches_run ON applied_batches (run_id, domain, attempt);

-- Runs known to the writer: their domains, and whether sync.completed was
-- published.
CREATE TABLE runs (
    run_id       TEXT    PRIMARY KEY,
    run          TEXT    NOT NULL,           -- events.Run (JSON)
    domains      TEXT    NOT NULL,           -- JSON array
    published_at TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- diff's word that a domain is done, waiting for its last batches.
CREATE TABLE pending_domains (
    run_id   TEXT    NOT NULL,
    domain   TEXT    NOT NULL,
    attempt  INTEGER NOT NULL,
    batches  INTEGER NOT NULL,
    ending   TEXT    NOT NULL,              -- changes.completed (JSON)
    PRIMARY KEY (run_id, domain, attempt)
) WITHOUT ROWID;

-- Each domain's outcome in a run.
CREATE TABLE run_domains (
    run_id      TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    job         TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL,
    entries     INTEGER NOT NULL,
    skipped     INTEGER NOT NULL,
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    deactivated INTEGER NOT NULL,
    reactivated INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    finished_at TEXT    NOT NULL,
    PRIMARY KEY (run_id, domain)
) WITHOUT ROWID;
