-- diff's own record of what it last saw in each directory.
CREATE TABLE entries (
    domain      TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    hash        BLOB    NOT NULL,  -- hash of the normalised entry
    entry       BLOB    NOT NULL,  -- the entry as last seen (JSON)
    active      INTEGER NOT NULL,  -- as last published
    present     INTEGER NOT NULL,  -- 0 once found gone from the directory
    observed_at INTEGER NOT NULL,  -- ns; a replayed older observation never wins
    PRIMARY KEY (domain, external_id)
) WITHOUT ROWID;

-- One row per (run, domain, attempt): progress and planned counts.
CREATE TABLE attempts (
    run_id      TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    pages       INTEGER NOT NULL DEFAULT 0,
    entries     INTEGER NOT NULL DEFAULT 0,
    batches     INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    deactivated INTEGER NOT NULL DEFAULT 0,
    reactivated INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    joined      INTEGER NOT NULL DEFAULT 0,
    left_groups INTEGER NOT NULL DEFAULT 0,
    finished    INTEGER NOT NULL DEFAULT 0,
    -- The attempt's end as the reader reported it (directory.completed or
    -- directory.failed, JSON), once received; the attempt is finished by
    -- whichever comes last: that event or its last page.
    ending      TEXT,
    ending_kind TEXT,
    expected_pages INTEGER,
    -- Active accounts of the domain when the attempt started.
    active_before INTEGER NOT NULL DEFAULT 0,
    started_at  TEXT    NOT NULL,
    PRIMARY KEY (run_id, domain, attempt)
) WITHOUT ROWID;

-- Pages already processed (a redelivered page is processed once).
CREATE TABLE pages (
    run_id  TEXT    NOT NULL,
    domain  TEXT    NOT NULL,
    attempt INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (run_id, domain, attempt, seq)
) WITHOUT ROWID;

-- The ids an attempt has seen; whoever is present but not seen by a
-- complete attempt is gone.
CREATE TABLE seen (
    run_id      TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    external_id TEXT    NOT NULL,
    PRIMARY KEY (run_id, domain, attempt, external_id)
) WITHOUT ROWID;

-- What a run changed in entries, to put it back when its plan is not
-- applied (held and discarded, failed, or a dry run). existed=0: the entry
-- was new.
CREATE TABLE undo (
    run_id      TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    existed     INTEGER NOT NULL,
    hash        BLOB,
    entry       BLOB,
    active      INTEGER,
    present     INTEGER,
    observed_at INTEGER,
    PRIMARY KEY (run_id, domain, external_id)
) WITHOUT ROWID;

-- Per domain: the result count of the last run whose plan was applied.
CREATE TABLE domains (
    domain            TEXT    PRIMARY KEY,
    last_good_entries INTEGER NOT NULL,
    last_good_run     TEXT    NOT NULL
) WITHOUT ROWID;
