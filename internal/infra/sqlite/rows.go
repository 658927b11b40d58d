package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
)

// Rows returns n rows for a multi-row VALUES clause: row is one row's
// text, naming the statement's shared parameters ?1…?shared directly and
// its own per parameters $0…$(per-1), which become the numbered
// parameters of the row (?shared+1… for the first row, and so on).
func Rows(row string, shared, per, n int) string {
	var b strings.Builder
	pairs := make([]string, 0, 2*per)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		// $11 before $1: the replacer tries its pairs in order.
		pairs = pairs[:0]
		for j := per - 1; j >= 0; j-- {
			pairs = append(pairs, "$"+strconv.Itoa(j), "?"+strconv.Itoa(shared+1+per*i+j))
		}
		b.WriteString(strings.NewReplacer(pairs...).Replace(row))
	}
	return b.String()
}

// RowsPerStatement is how many rows one statement of an Inserts holds.
const RowsPerStatement = 64

// RowsInsert is an INSERT of many rows: Head, then a row of Row per set of
// arguments (Rows: Row names the statement's Shared arguments ?1, ?2…
// and its own Per arguments $0, $1…), then Tail. Declare them as package
// variables: their statements are kept by address (text).
type RowsInsert struct {
	Head, Row, Tail string
	Shared, Per     int
}

// text returns the statement of n rows, built once per RowsInsert and n:
// a transaction of diff prepares its statements again, and building the
// text of 64 rows each time was half the cost of that.
func (ins *RowsInsert) text(n int) string {
	key := insertKey{ins, n}
	if q, ok := insertTexts.Load(key); ok {
		return q.(string)
	}
	q := ins.Head + Rows(ins.Row, ins.Shared, ins.Per, n) + ins.Tail
	insertTexts.Store(key, q)
	return q
}

// insertTexts holds the statements RowsInsert.text built.
var insertTexts sync.Map

// Inserts runs RowsInserts in one transaction, each statement prepared
// once per RowsInsert and row count (and kept for later transactions by
// DB.Commit). Rows of one statement are written in order.
type Inserts struct {
	ctx   context.Context
	db    *DB
	tx    *sql.Tx
	stmts map[insertKey]*sql.Stmt
}

type insertKey struct {
	ins *RowsInsert
	n   int
}

// NewInserts returns the Inserts of a transaction tx of db; Close closes
// their statements.
func (db *DB) NewInserts(ctx context.Context, tx *sql.Tx) *Inserts {
	return &Inserts{ctx: ctx, db: db, tx: tx, stmts: map[insertKey]*sql.Stmt{}}
}

// Insert runs ins over rows, RowsPerStatement rows a statement, shared
// being the statement's shared arguments, and returns the rows it changed.
func (s *Inserts) Insert(ins *RowsInsert, shared []any, rows [][]any) (int, error) {
	total := 0
	for start := 0; start < len(rows); start += RowsPerStatement {
		chunk := rows[start:min(start+RowsPerStatement, len(rows))]
		st, err := s.statement(ins, len(chunk))
		if err != nil {
			return total, err
		}
		args := make([]any, 0, ins.Shared+ins.Per*len(chunk))
		args = append(args, shared...)
		for _, r := range chunk {
			args = append(args, r...)
		}
		res, err := st.ExecContext(s.ctx, args...)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += int(n)
	}
	return total, nil
}

func (s *Inserts) statement(ins *RowsInsert, n int) (*sql.Stmt, error) {
	key := insertKey{ins, n}
	if st, ok := s.stmts[key]; ok {
		return st, nil
	}
	st, err := s.db.Stmt(s.ctx, s.tx, ins.text(n))
	if err != nil {
		return nil, err
	}
	s.stmts[key] = st
	return st, nil
}

// Close closes the prepared statements.
func (s *Inserts) Close() {
	for _, st := range s.stmts {
		st.Close()
	}
}
