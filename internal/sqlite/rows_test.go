package sqlite

import "testing"

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
