package diff

import (
	"slices"
	"strings"
	"testing"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/jobs"
)

// The deletion guard's limits one by one: the defaults (500 deactivations,
// 10% of the active accounts, 10% fewer users than the last good run), each
// turned off by 0, and an empty result, always held after a full read.
func TestCheck(t *testing.T) {
	defaults := jobs.DefaultSafety
	if defaults != (events.Safety{MaxDeactivations: 500, MaxDeactivationPercent: 10, MaxResultDropPercent: 10}) {
		t.Fatalf("default limits %+v, want 500, 10%%, 10%%", defaults)
	}
	off := events.Safety{}
	with := func(f func(*events.Safety)) events.Safety {
		s := defaults
		f(&s)
		return s
	}
	const (
		absolute = "more than the job's limit of 500"
		percent  = "more than the job's limit of 10%"
		drop     = "fewer than the"
		empty    = "an empty result is always held"
	)
	cases := []struct {
		name                                           string
		limits                                         events.Safety
		delta                                          bool
		deactivations, activeBefore, entries, lastGood int
		want                                           []string // the reasons, by a distinctive part; none: not held
		wantText                                       string   // and, when set, one reason's exact numbers
	}{
		{name: "within every limit", limits: defaults, deactivations: 5, activeBefore: 100, entries: 95, lastGood: 100},
		{name: "first run: no accounts, no last good run", limits: defaults, entries: 40},

		{name: "absolute: 500 of 10000 is the limit", limits: defaults, deactivations: 500, activeBefore: 10000, entries: 9500, lastGood: 10000},
		{name: "absolute: 501 of 10000 (5%) is held", limits: defaults, deactivations: 501, activeBefore: 10000, entries: 9499, lastGood: 10000,
			want: []string{absolute}, wantText: "the plan deactivates 501 accounts, more than the job's limit of 500"},
		{name: "absolute: off with 0", limits: with(func(s *events.Safety) { s.MaxDeactivations = 0 }), deactivations: 501, activeBefore: 10000, entries: 9499, lastGood: 10000},
		{name: "absolute: a lower limit", limits: events.Safety{MaxDeactivations: 3}, deactivations: 4, activeBefore: 10, entries: 6, lastGood: 10,
			want: []string{"more than the job's limit of 3"}},

		{name: "percentage: 10 of 100 is the limit", limits: defaults, deactivations: 10, activeBefore: 100, entries: 100, lastGood: 100},
		{name: "percentage: 11 of 100 is held", limits: defaults, deactivations: 11, activeBefore: 100, entries: 100, lastGood: 100,
			want: []string{percent}, wantText: "the plan deactivates 11 of 100 active accounts (11.0%), more than the job's limit of 10%"},
		{name: "percentage: 30% removed is held by both percentages", limits: defaults, deactivations: 6, activeBefore: 20, entries: 14, lastGood: 20,
			want: []string{percent, drop}},
		{name: "percentage: off with 0", limits: with(func(s *events.Safety) { s.MaxDeactivationPercent = 0 }), deactivations: 11, activeBefore: 100, entries: 100, lastGood: 100},
		{name: "percentage: also held in a delta read", limits: defaults, delta: true, deactivations: 11, activeBefore: 100, entries: 11, lastGood: 100,
			want: []string{percent}},

		{name: "result drop: 90 of 100 is the limit", limits: defaults, activeBefore: 100, entries: 90, lastGood: 100},
		{name: "result drop: 89 of 100 is held", limits: defaults, activeBefore: 100, entries: 89, lastGood: 100,
			want: []string{drop}, wantText: "the read returned 89 users, 11.0% fewer than the 100 of the last good run (limit 10%)"},
		{name: "result drop: held without any deactivation", limits: defaults, activeBefore: 10, entries: 50, lastGood: 100,
			want: []string{drop}},
		{name: "result drop: off with 0", limits: with(func(s *events.Safety) { s.MaxResultDropPercent = 0 }), activeBefore: 100, entries: 50, lastGood: 100},
		{name: "result drop: no last good run", limits: defaults, activeBefore: 100, entries: 50},
		{name: "result drop: a delta read returns only what changed", limits: defaults, delta: true, activeBefore: 100, entries: 3, lastGood: 100},

		{name: "empty result: held with every limit off", limits: off, activeBefore: 5, lastGood: 5,
			want: []string{empty}, wantText: "the read returned no users, but the domain had 5 active accounts: an empty result is always held"},
		{name: "empty result: held with the defaults, with every reason", limits: defaults, deactivations: 5, activeBefore: 5, lastGood: 5,
			want: []string{empty, percent, drop}},
		{name: "empty result: no active accounts before", limits: off, entries: 0},
		{name: "empty result: only inactive accounts before", limits: defaults, entries: 0, lastGood: 0},
		{name: "empty delta read: nothing changed", limits: off, delta: true, activeBefore: 5, lastGood: 5},

		{name: "every limit off", limits: off, deactivations: 10000, activeBefore: 10000, entries: 1, lastGood: 10000},
		{name: "every limit at once", limits: defaults, deactivations: 600, activeBefore: 1000, entries: 400, lastGood: 1000,
			want: []string{absolute, percent, drop}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := check(tc.limits, tc.delta, tc.deactivations, tc.activeBefore, tc.entries, tc.lastGood)
			if len(tc.want) == 0 {
				if h != nil {
					t.Fatalf("held: %+v", h)
				}
				return
			}
			if h == nil {
				t.Fatalf("not held, want %q", tc.want)
			}
			if h.Deactivations != tc.deactivations || h.ActiveBefore != tc.activeBefore || h.Entries != tc.entries || h.LastGoodEntries != tc.lastGood {
				t.Errorf("hold numbers %+v, want %d deactivations, %d active, %d entries, %d last good",
					h, tc.deactivations, tc.activeBefore, tc.entries, tc.lastGood)
			}
			if len(h.Reasons) != len(tc.want) {
				t.Fatalf("reasons %q, want one per limit gone over: %q", h.Reasons, tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(h.Reasons[i], w) {
					t.Errorf("reason %d %q, want it to say %q", i, h.Reasons[i], w)
				}
			}
			if tc.wantText != "" && !slices.Contains(h.Reasons, tc.wantText) {
				t.Errorf("reasons %q, want %q", h.Reasons, tc.wantText)
			}
		})
	}
}
