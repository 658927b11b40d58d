-- SCIM's userName (the local name) compares case-insensitively
-- (caseExact false): `userName eq` looked through every account (0.3-0.4 s
-- at 1,000,000); this index answers it in one lookup.
CREATE INDEX accounts_local_name_nocase ON accounts (local_name COLLATE NOCASE);
