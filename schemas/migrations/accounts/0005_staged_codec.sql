-- How a staged batch's payload is encoded: 'json', or 's2+json' (the JSON
-- compressed with S2, about 6× smaller: a plan of 100,000 accounts was
-- 40 MB written, read back and freed).
ALTER TABLE staged ADD COLUMN codec TEXT NOT NULL DEFAULT 'json';
