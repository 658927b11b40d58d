-- The run that recorded an entry first. Undoing that run removes the
-- entry: a first sync no longer writes an undo record for each new entry
-- (with random directory ids, a row in a random place of the undo table,
-- about a fifth of diff's work in a first sync). Entries recorded before
-- this column have '' and their undo records (existed=0) as before.
ALTER TABLE entries ADD COLUMN created_run TEXT NOT NULL DEFAULT '';

-- An undo record (existed=1) keeps the entry's created_run too, so that an
-- entry put back keeps the run that created it.
ALTER TABLE undo ADD COLUMN created_run TEXT NOT NULL DEFAULT '';
