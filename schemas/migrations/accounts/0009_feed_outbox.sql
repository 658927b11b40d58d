-- The account change feed's outbox: every change account-writer commits to
-- an account is written here in the transaction of the change, then relayed
-- to JetStream (stream ADSYNC_ACCOUNTS) in seq order and deleted. seq is the
-- feed's sequence: AUTOINCREMENT never hands out a number twice, even after
-- the rows are deleted.
CREATE TABLE feed_outbox (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    domain  TEXT NOT NULL,
    payload BLOB NOT NULL  -- account.changed.v1 (JSON), its seq 0 (FeedEvent.Payload)
);
