-- Times are stored with nine fractional digits ("2026-12-07T16:00:00.000000000Z",
-- always UTC) so that they sort as text. Before, RFC 3339 with trimmed
-- fractions ("…:00Z", "…:00.5Z") did not, and SCIM's meta.lastModified
-- filters compared every account's time through julianday(): 274 ms at
-- 1,000,000 accounts. Existing times are rewritten to the fixed width.
UPDATE accounts SET updated_at = CASE
        WHEN instr(updated_at, '.') = 0 THEN substr(updated_at, 1, 19) || '.000000000Z'
        ELSE substr(updated_at, 1, 20) || substr(substr(updated_at, 21, length(updated_at) - 21) || '000000000', 1, 9) || 'Z' END
    WHERE length(updated_at) BETWEEN 20 AND 29 AND substr(updated_at, -1) = 'Z';
UPDATE accounts SET created_at = CASE
        WHEN instr(created_at, '.') = 0 THEN substr(created_at, 1, 19) || '.000000000Z'
        ELSE substr(created_at, 1, 20) || substr(substr(created_at, 21, length(created_at) - 21) || '000000000', 1, 9) || 'Z' END
    WHERE length(created_at) BETWEEN 20 AND 29 AND substr(created_at, -1) = 'Z';
UPDATE groups SET updated_at = CASE
        WHEN instr(updated_at, '.') = 0 THEN substr(updated_at, 1, 19) || '.000000000Z'
        ELSE substr(updated_at, 1, 20) || substr(substr(updated_at, 21, length(updated_at) - 21) || '000000000', 1, 9) || 'Z' END
    WHERE length(updated_at) BETWEEN 20 AND 29 AND substr(updated_at, -1) = 'Z';

-- "What changed since my last poll": a first sync's rows share their
-- batch's time, so they land at the index's end.
CREATE INDEX accounts_updated ON accounts (updated_at);
