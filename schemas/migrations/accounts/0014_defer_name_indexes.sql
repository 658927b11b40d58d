-- The indexes by user name and by local name without case are built after
-- a store's first run (deferredIndexes in the account-writer), no longer
-- kept up row by row through it. Active Directory hands its users out in
-- an order that has nothing to do with their names: each new account then
-- changed a page of each of these indexes at a random place, and a first
-- sync of 1,000,000 such users took the account-writer 159 s instead of
-- 59 s without them (docs/performance.md). A store that has accounts
-- builds them again when it opens.
DROP INDEX IF EXISTS accounts_username;
DROP INDEX IF EXISTS accounts_local_name_nocase;
