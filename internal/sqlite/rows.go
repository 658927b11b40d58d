package sqlite

import (
	"strconv"
	"strings"
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
