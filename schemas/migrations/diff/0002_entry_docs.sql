-- Entries keep their hash and state in a narrow table keyed by (domain,
-- external_id), and the entry as last seen (a few hundred bytes of JSON) in
-- entry_docs, a rowid table that new documents are appended to.
--
-- Directory ids are random (objectGUID): with the documents inside the
-- keyed table, recording a first sync's entries dirtied about one page per
-- entry, and a no-change read's comparison of hashes read one page per
-- entry. Narrow rows make both several times cheaper; a document is read
-- only for an entry whose hash differs.
CREATE TABLE entry_docs (
    id    INTEGER PRIMARY KEY,   -- entries.doc
    entry BLOB    NOT NULL       -- the entry as last seen (JSON)
);

CREATE TABLE entries_narrow (
    domain      TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    hash        BLOB    NOT NULL,  -- hash of the normalised entry
    doc         INTEGER NOT NULL,  -- entry_docs.id: the entry as last seen
    active      INTEGER NOT NULL,  -- as last published
    present     INTEGER NOT NULL,  -- 0 once found gone from the directory
    observed_at INTEGER NOT NULL,  -- ns; a replayed older observation never wins
    PRIMARY KEY (domain, external_id)
) WITHOUT ROWID;

-- Both numberings follow the same unique order: entry n gets document n.
INSERT INTO entry_docs (id, entry)
    SELECT row_number() OVER (ORDER BY domain, external_id), entry FROM entries;
INSERT INTO entries_narrow (domain, external_id, hash, doc, active, present, observed_at)
    SELECT domain, external_id, hash, row_number() OVER (ORDER BY domain, external_id), active, present, observed_at FROM entries;

DROP TABLE entries;
ALTER TABLE entries_narrow RENAME TO entries;

-- A document lives as long as its entry points to it.
CREATE TRIGGER entries_doc_replaced AFTER UPDATE OF doc ON entries WHEN old.doc <> new.doc
BEGIN
    DELETE FROM entry_docs WHERE id = old.doc;
END;
CREATE TRIGGER entries_deleted AFTER DELETE ON entries
BEGIN
    DELETE FROM entry_docs WHERE id = old.doc;
END;
