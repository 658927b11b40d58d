package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
)

func TestRows(t *testing.T) {
	for _, tt := range []struct {
		row            string
		shared, per, n int
		want           string
	}{
		{"($0,$1)", 0, 2, 2, "(?1,?2),(?3,?4)"},
		{"(?1,$0,?2)", 2, 1, 3, "(?1,?3,?2),(?1,?4,?2),(?1,?5,?2)"},
		{"($0,$1,$10,$11)", 1, 12, 2, "(?2,?3,?12,?13),(?14,?15,?24,?25)"},
	} {
		if got := Rows(tt.row, tt.shared, tt.per, tt.n); got != tt.want {
			t.Errorf("Rows(%q, %d, %d, %d) = %q, want %q", tt.row, tt.shared, tt.per, tt.n, got, tt.want)
		}
	}
}

// TestInsertsWriteEveryRowInOrder: rows go RowsPerStatement to a
// statement, in order, with the shared arguments; Insert counts the rows
// written (a row skipped by its ON CONFLICT clause is not).
func TestInsertsWriteEveryRowInOrder(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"), fstest.MapFS{"0001_t.sql": {Data: []byte(
		`CREATE TABLE t (grp TEXT NOT NULL, k INTEGER NOT NULL UNIQUE, v TEXT NOT NULL);`)}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ins := RowsInsert{Shared: 1, Per: 2, Head: `INSERT INTO t (grp, k, v) VALUES `, Row: `(?1,$0,$1)`, Tail: ` ON CONFLICT DO NOTHING`}
	for _, tt := range []struct {
		name   string
		keys   []int
		wrote  int
		stored []int // the group's rows, in the order written
	}{
		{"none", nil, 0, nil},
		{"fewer than a statement", []int{1, 2, 3}, 3, []int{1, 2, 3}},
		{"several statements", seq(100, 2*RowsPerStatement+22), 2*RowsPerStatement + 22, seq(100, 2*RowsPerStatement+22)},
		{"some skipped", []int{3, 4, 100, 5}, 2, []int{4, 5}}, // 3 and 100 are taken
	} {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			s := db.NewInserts(ctx, tx)
			defer s.Close()
			rows := make([][]any, len(tt.keys))
			for i, k := range tt.keys {
				rows[i] = []any{k, fmt.Sprint("v", k)}
			}
			n, err := s.Insert(&ins, []any{tt.name}, rows)
			if err != nil || n != tt.wrote {
				t.Fatalf("Insert = %d, %v; want %d rows written", n, err, tt.wrote)
			}
			r, err := tx.Query(`SELECT k, v FROM t WHERE grp=? ORDER BY rowid`, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got []int
			for r.Next() {
				var k int
				var v string
				if err := r.Scan(&k, &v); err != nil {
					t.Fatal(err)
				}
				if v != fmt.Sprint("v", k) {
					t.Fatalf("row %d has %q", k, v)
				}
				got = append(got, k)
			}
			if !slices.Equal(got, tt.stored) {
				t.Fatalf("rows in order %v, want %v", got, tt.stored)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func seq(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}
