-- The unique indexes by directory id and by local name are built after a
-- store's first sync too (uniqueKeys in the account-writer stands in for
-- them until then). With random objectGUIDs and names in no order, each
-- new account changed a page of each at a random place: a first sync of
-- 1,000,000 users took the account-writer 59 s with them and 12-14 s
-- without (docs/performance.md). A store that has accounts builds them
-- again when it opens, before it takes any change.
DROP INDEX IF EXISTS accounts_id;
DROP INDEX IF EXISTS accounts_local_name;
