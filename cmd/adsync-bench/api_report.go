package main

import (
	"fmt"
	"time"
)

// apiTable renders the API phase's figures, each next to its target.
func (r *report) apiTable(w func(string, ...any)) {
	header := false
	for _, c := range r.cases {
		a := c.API
		if a == nil {
			continue
		}
		if !header {
			w("\n### API and SCIM over HTTP\n\n")
			w("%s after the runs, the accounts in place. Paging: one client through every user, SCIM `startIndex`/`count=%d` and the REST API's cursor with `limit=%d`. Lookups: %d concurrent clients, %d requests each, a viewer token (SCIM) or a signed-in console session (search). Targets (issue 19): paging ≥ %s users/s, lookups < %s at the 99th percentile.\n\n",
				r.o.layout.api,
				apiPageCount, apiPageCount, apiClients, apiPerClient, thousands(targetPaging), msText(targetLookupP99))
			w("| directory | N | what | figure | target |\n|---|--:|---|--:|---|\n")
			header = true
		}
		for _, p := range []struct {
			name string
			pg   apiPaging
			goal bool
		}{{"SCIM paging", a.SCIMPaging, true}, {"REST paging", a.RESTPaging, false}} {
			rate := p.pg.perSecond()
			mark := ""
			if p.goal {
				mark = r.mark(rate >= targetPaging, fmt.Sprintf("%s %s: SCIM paging %s users/s < %s", c.Label, thousands(c.N), thousands(int(rate)), thousands(targetPaging)))
			}
			w("| %s | %s | %s | %s users/s (%s s) | %s |\n", c.Label, thousands(c.N), p.name, thousands(int(rate)), secs(p.pg.Time), mark)
		}
		for _, l := range a.Lookups {
			mark := r.mark(l.P99 < targetLookupP99, fmt.Sprintf("%s %s: %s p99 %s ≥ %s", c.Label, thousands(c.N), l.Name, msText(l.P99), msText(targetLookupP99)))
			w("| %s | %s | %s | p50 %s, p99 %s, max %s (%d requests) | %s |\n", c.Label, thousands(c.N), l.Name, msText(l.P50), msText(l.P99), msText(l.Max), l.Requests, mark)
		}
	}
}

// mark is ✓, or ✗ with the miss recorded.
func (r *report) mark(met bool, miss string) string {
	if met {
		return ok
	}
	r.misses = append(r.misses, miss)
	return bad
}

// msText is a latency in milliseconds.
func msText(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
