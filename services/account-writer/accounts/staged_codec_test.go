package accounts

import (
	"context"
	"testing"

	"github.com/segmentio/encoding/json"
)

// TestBatchesStagedByAnOlderVersionAreApplied: a plan may be half staged
// when adsync is upgraded; the batches staged as plain JSON (codec 'json')
// are applied with those staged compressed.
func TestBatchesStagedByAnOlderVersionAreApplied(t *testing.T) {
	s := openStore(t, "")
	ctx := context.Background()
	old := batch(run1, "p1", create("g1", "alice", 10))
	raw, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO staged (message_id, run_id, domain, attempt, kind, seq, payload) VALUES (?, ?, ?, ?, 'p', 1, ?)`,
		old.MessageID(), old.RunID, old.Domain, old.Attempt, raw); err != nil {
		t.Fatal(err)
	}
	now := batch(run1, "p2", create("g2", "bob", 10))
	if _, err := s.Stage(ctx, now.MessageID(), now); err != nil {
		t.Fatal(err)
	}
	var codecs []string
	rows, err := s.db.QueryContext(ctx, `SELECT codec FROM staged ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		codecs = append(codecs, c)
	}
	rows.Close()
	if len(codecs) != 2 || codecs[0] != codecJSON || codecs[1] != codecS2JSON {
		t.Fatalf("codecs %v", codecs)
	}
	if d, err := s.Expect(ctx, done(run1, 2)); err != nil || !d {
		t.Fatalf("expect: %v %v", d, err)
	}
	m := list(t, s)
	if len(m) != 2 || m["g1"].LocalName != "alice@corp" || m["g2"].LocalName != "bob@corp" {
		t.Fatalf("accounts: %+v", m)
	}
}
