-- The local accounts that account-writer keeps in step with the directories.
-- An account is never deleted: a user gone from the directory is deactivated.
CREATE TABLE accounts (
    domain           TEXT    NOT NULL,
    external_id      TEXT    NOT NULL,           -- objectGUID / entryUUID
    username         TEXT    NOT NULL,
    local_name       TEXT    NOT NULL,           -- by the local-name rule: user@domain or DOMAIN\user
    upn              TEXT    NOT NULL DEFAULT '',
    email            TEXT    NOT NULL DEFAULT '',
    display_name     TEXT    NOT NULL DEFAULT '',
    given_name       TEXT    NOT NULL DEFAULT '',
    surname          TEXT    NOT NULL DEFAULT '',
    dn               TEXT    NOT NULL DEFAULT '',
    active           INTEGER NOT NULL,
    inactive_reason  TEXT    NOT NULL DEFAULT '', -- directory-disabled, directory-removed, out-of-scope, expired, local
    deactivated_by   TEXT    NOT NULL DEFAULT '', -- "sync" or "local"
    local_note       TEXT    NOT NULL DEFAULT '', -- an administrator's words when deactivating locally
    directory_active INTEGER NOT NULL DEFAULT 1,  -- the directory's own state, whatever a local hold says
    directory_reason TEXT    NOT NULL DEFAULT '', -- and its reason when inactive there
    version          INTEGER NOT NULL,            -- directory observation time (ns) of the applied state
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    deactivated_at   TEXT    NOT NULL DEFAULT '',
    last_run_id      TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (domain, external_id)
) WITHOUT ROWID;

CREATE INDEX accounts_username ON accounts (domain, username, external_id);
-- No account ever takes over another's identity: local names are unique.
CREATE UNIQUE INDEX accounts_local_name ON accounts (local_name);

-- Groups are local records keyed by their directory id.
CREATE TABLE groups (
    domain      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    dn          TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (domain, external_id)
) WITHOUT ROWID;

-- Effective memberships (nested groups resolved).
CREATE TABLE account_groups (
    domain     TEXT NOT NULL,
    account_id TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    PRIMARY KEY (domain, account_id, group_id)
) WITHOUT ROWID;

-- Batches of changes received for a run's domain and not applied yet: a
-- domain's plan is applied whole once diff says it is complete and not
-- held, and dropped if it failed, was a dry run or is discarded.
CREATE TABLE staged (
    message_id TEXT    PRIMARY KEY,
    run_id     TEXT    NOT NULL,
    domain     TEXT    NOT NULL,
    attempt    INTEGER NOT NULL,
    kind       TEXT    NOT NULL,           -- p (page) or r (removals)
    seq        INTEGER NOT NULL,
    payload    BLOB    NOT NULL            -- account.changes (JSON)
) WITHOUT ROWID;

CREATE INDEX staged_run ON staged (run_id, domain, attempt, kind, seq);

-- Batches applied (or dropped): a redelivered batch is handled once.
CREATE TABLE applied_batches (
    message_id  TEXT    PRIMARY KEY,
    run_id      TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    deactivated INTEGER NOT NULL,
    reactivated INTEGER NOT NULL,
    joined      INTEGER NOT NULL,
    left_groups INTEGER NOT NULL,
    stale       INTEGER NOT NULL,          -- older than the account (version guard)
    failed      INTEGER NOT NULL,
    applied_at  TEXT    NOT NULL
) WITHOUT ROWID;

CREATE INDEX applied_batches_run ON applied_batches (run_id, domain);

-- Runs known to the writer: their domains, and whether sync.completed was
-- published.
CREATE TABLE runs (
    run_id       TEXT    PRIMARY KEY,
    run          TEXT    NOT NULL,           -- events.Run (JSON)
    domains      TEXT    NOT NULL,           -- JSON array
    published_at TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL
) WITHOUT ROWID;

-- diff's word that a domain is done, waiting for its last batches.
CREATE TABLE pending_domains (
    run_id   TEXT    NOT NULL,
    domain   TEXT    NOT NULL,
    batches  INTEGER NOT NULL,              -- every attempt's batches
    ending   TEXT    NOT NULL,              -- changes.completed (JSON)
    PRIMARY KEY (run_id, domain)
) WITHOUT ROWID;

-- Each domain's outcome in a run.
CREATE TABLE run_domains (
    run_id      TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    job         TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,           -- completed, failed, held, dry-run, discarded
    reason      TEXT    NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL,
    entries     INTEGER NOT NULL,
    skipped     INTEGER NOT NULL,
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    deactivated INTEGER NOT NULL,
    reactivated INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    joined      INTEGER NOT NULL,
    left_groups INTEGER NOT NULL,
    drift       INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    hold        TEXT    NOT NULL DEFAULT '', -- events.Hold (JSON) of a held plan
    skipped_sample TEXT NOT NULL DEFAULT '[]',
    mode        TEXT    NOT NULL DEFAULT '',
    watermark   TEXT    NOT NULL DEFAULT '', -- where the next delta read starts, saved once the plan is applied
    watermark_saved INTEGER NOT NULL DEFAULT 0,
    finished_at TEXT    NOT NULL,
    PRIMARY KEY (run_id, domain)
) WITHOUT ROWID;

-- What a run did to each account (bounded: report_max_rows per run, kept
-- for report_retention).
CREATE TABLE run_changes (
    run_id      TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    local_name  TEXT    NOT NULL,
    op          TEXT    NOT NULL,           -- create, update, deactivate, reactivate
    fields      TEXT    NOT NULL DEFAULT '[]',
    reason      TEXT    NOT NULL DEFAULT '',
    result      TEXT    NOT NULL,           -- applied, planned, stale, failed, kept-inactive
    error       TEXT    NOT NULL DEFAULT '',
    at          TEXT    NOT NULL
);

CREATE INDEX run_changes_run ON run_changes (run_id, domain);

-- Changes that could not be applied (a local-name conflict...): retried at
-- each run of the domain until they apply or a newer state replaces them.
CREATE TABLE failed_changes (
    domain      TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    change      TEXT    NOT NULL,           -- events.AccountChange (JSON)
    error       TEXT    NOT NULL,
    first_run   TEXT    NOT NULL,
    last_run    TEXT    NOT NULL,
    PRIMARY KEY (domain, external_id)
) WITHOUT ROWID;
