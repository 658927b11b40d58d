-- A first sync's new entries are appended to staged_entries and moved into
-- entries, sorted by id, once the attempt ends (or as soon as anything
-- else reads the domain's entries): services/diff/staged_sqlite.go.
--
-- Directory ids are random (objectGUID): inserted into entries as read,
-- each page of 2,500 new entries dirtied about 2,400 pages of that index
-- once it outgrew the page cache, and every commit wrote them all to the
-- log. That made diff's first sync of 1,000,000 users cost 13.5 times its
-- first sync of 100,000 (docs/performance.md, 2026-12-07, sixth session).
CREATE TABLE staging (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: names one staging for good
    run_id  TEXT    NOT NULL,
    domain  TEXT    NOT NULL,
    attempt INTEGER NOT NULL
);
CREATE INDEX staging_domain ON staging (domain);

CREATE TABLE staged_entries (
    stage       INTEGER NOT NULL,  -- staging.id
    external_id TEXT    NOT NULL,
    hash        BLOB    NOT NULL,
    doc         INTEGER NOT NULL,  -- entry_docs.id, written with the entry
    active      INTEGER NOT NULL,
    present     INTEGER NOT NULL,
    observed_at INTEGER NOT NULL
);
