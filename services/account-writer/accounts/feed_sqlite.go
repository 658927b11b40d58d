package accounts

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/sqlite"
)

// The account change feed (events.AccountChanged) leaves the store through
// an outbox: each change is written to feed_outbox in the transaction that
// commits it, with the next sequence number, and account-writer's relay
// publishes the rows in order and deletes them (Outbox, FeedPublished). A
// change rolled back, held or dry-run leaves no row; a row is published
// once, whatever crashes in between.

// seqZero starts every payload in the outbox: the relay writes the row's
// seq in its place (FeedEvent.Payload), so that nothing is decoded and
// encoded again on the way out.
var seqZero = []byte(`{"seq":0,`)

// FeedEvent is an outbox row.
type FeedEvent struct {
	Seq    int64
	Domain string
	raw    []byte
}

// Payload is the event's JSON with its sequence number.
func (e FeedEvent) Payload() []byte {
	out := make([]byte, 0, len(e.raw)+20)
	out = append(out, `{"seq":`...)
	out = strconv.AppendInt(out, e.Seq, 10)
	out = append(out, ',')
	return append(out, e.raw[len(seqZero):]...)
}

// encodeFeed is the outbox payload of ev (its Seq is set by the row).
func encodeFeed(ev *events.AccountChanged) ([]byte, error) {
	ev.Seq = 0
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("accounts: encode the change of %s/%s: %w", ev.Domain, ev.Account.ExternalID, err)
	}
	if !bytes.HasPrefix(raw, seqZero) {
		return nil, errors.New("accounts: account.changed.v1 must begin with its seq")
	}
	return raw, nil
}

var insertFeed = sqlite.RowsInsert{Shared: 0, Per: 2,
	Head: `INSERT INTO feed_outbox (domain, payload) VALUES `,
	Row:  `($0,$1)`}

// feeder writes a transaction's changes of accounts to the outbox. Its two
// statements are compiled once for the transaction: the account's read
// back, groups included, prepared for each change was two thirds of
// applying an update.
type feeder struct {
	s        *Store
	tx       *sql.Tx
	get, put *sql.Stmt
}

// write writes one change of an account to the outbox: the account as the
// transaction now has it, with what changed.
func (f *feeder) write(ctx context.Context, ev events.AccountChanged, domain, id string) error {
	if f.get == nil {
		var err error
		if f.get, err = f.s.db.Stmt(ctx, f.tx, `SELECT `+accountColumns+` FROM accounts a WHERE a.domain=? AND a.external_id=?`); err != nil {
			return fmt.Errorf("accounts: prepare the feed's read: %w", err)
		}
		if f.put, err = f.s.db.Stmt(ctx, f.tx, `INSERT INTO feed_outbox (domain, payload) VALUES (?, ?)`); err != nil {
			return fmt.Errorf("accounts: prepare the feed's write: %w", err)
		}
	}
	a, err := scanAccount(f.get.QueryRowContext(ctx, domain, id))
	if err != nil {
		return fmt.Errorf("accounts: read %s/%s for the feed: %w", domain, id, err)
	}
	ev.Domain, ev.Account = domain, a
	if ev.At.IsZero() {
		ev.At = f.s.feedTime()
	}
	raw, err := encodeFeed(&ev)
	if err != nil {
		return err
	}
	res, err := f.put.ExecContext(ctx, domain, raw)
	if err != nil {
		return err
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("accounts: the feed's sequence number: %w", err)
	}
	f.s.recent.add(seq, domain, raw)
	return nil
}

func (f *feeder) close() {
	for _, st := range []*sql.Stmt{f.get, f.put} {
		if st != nil {
			st.Close()
		}
	}
}

// feed writes one change of an account to the outbox (feeder.write), for a
// transaction that writes one.
func (s *Store) feed(ctx context.Context, tx *sql.Tx, ev events.AccountChanged, domain, id string) error {
	f := feeder{s: s, tx: tx}
	defer f.close()
	return f.write(ctx, ev, domain, id)
}

// Outbox returns up to n events of the outbox after seq, in order: held
// in memory since their commit (recentFeed), or read. It reads the last
// commit on a reader's connection, not on the writer's one, which a first
// sync keeps busy: changes commit in the order of their sequence numbers,
// so what it returns has no gap.
func (s *Store) Outbox(ctx context.Context, after int64, n int) ([]FeedEvent, error) {
	if held := s.recent.after(after, n); len(held) > 0 {
		return held, nil
	}
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT seq, domain, payload FROM feed_outbox WHERE seq > ? ORDER BY seq LIMIT ?`, after, n)
	if err != nil {
		return nil, fmt.Errorf("accounts: read the feed outbox: %w", err)
	}
	defer rows.Close()
	var out []FeedEvent
	for rows.Next() {
		var e FeedEvent
		if err := rows.Scan(&e.Seq, &e.Domain, &e.raw); err != nil {
			return nil, err
		}
		if !bytes.HasPrefix(e.raw, seqZero) {
			return nil, fmt.Errorf("accounts: feed outbox row %d is corrupt", e.Seq)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// FeedPublished deletes the outbox rows up to seq: they are in the stream.
func (s *Store) FeedPublished(ctx context.Context, seq int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM feed_outbox WHERE seq <= ?`, seq); err != nil {
		return fmt.Errorf("accounts: forget the feed up to %d: %w", seq, err)
	}
	return nil
}

// FeedSeq returns the sequence number of the last change committed: a list
// read after it holds every change up to it.
func (s *Store) FeedSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.Reader.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name='feed_outbox'`).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("accounts: feed sequence: %w", err)
	}
	return seq, nil
}

// feedTime is the At of changes applied now.
func (s *Store) feedTime() time.Time { return s.opt.Now().UTC() }
