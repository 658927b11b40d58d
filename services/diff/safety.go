package diff

import (
	"fmt"

	"github.com/adsync/adsync/events"
)

// check applies the deletion guard to a domain's plan: it returns the
// hold (every limit the plan goes over), or nil when the plan may be
// applied. A delta read returns what changed: its result count says
// nothing about the directory's size.
func check(p events.Safety, delta bool, deactivations, activeBefore, entries, lastGood int) *events.Hold {
	h := &events.Hold{Deactivations: deactivations, ActiveBefore: activeBefore, Entries: entries, LastGoodEntries: lastGood}
	if delta {
		p.MaxResultDropPercent = 0
	}
	if entries == 0 && activeBefore > 0 && !delta {
		h.Reasons = append(h.Reasons, fmt.Sprintf("the read returned no users, but the domain had %d active accounts: an empty result is always held", activeBefore))
	}
	if p.MaxDeactivations > 0 && deactivations > p.MaxDeactivations {
		h.Reasons = append(h.Reasons, fmt.Sprintf("the plan deactivates %d accounts, more than the job's limit of %d", deactivations, p.MaxDeactivations))
	}
	if p.MaxDeactivationPercent > 0 && activeBefore > 0 && deactivations*100 > p.MaxDeactivationPercent*activeBefore {
		h.Reasons = append(h.Reasons, fmt.Sprintf("the plan deactivates %d of %d active accounts (%.1f%%), more than the job's limit of %d%%",
			deactivations, activeBefore, 100*float64(deactivations)/float64(activeBefore), p.MaxDeactivationPercent))
	}
	if p.MaxResultDropPercent > 0 && lastGood > 0 && entries*100 < (100-p.MaxResultDropPercent)*lastGood {
		h.Reasons = append(h.Reasons, fmt.Sprintf("the read returned %d users, %.1f%% fewer than the %d of the last good run (limit %d%%)",
			entries, 100*float64(lastGood-entries)/float64(lastGood), lastGood, p.MaxResultDropPercent))
	}
	if len(h.Reasons) == 0 {
		return nil
	}
	return h
}
