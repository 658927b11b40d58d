package bus

import (
	"sync"
	"sync/atomic"
)

// ConsumerStats are a consumer's counters in this process (shown by
// `nats micro stats`).
type ConsumerStats struct {
	Acked        int64 `json:"acked"`
	Retried      int64 `json:"retried"`
	DeadLettered int64 `json:"dead_lettered"`
	Redelivered  int64 `json:"redelivered"`
}

type counters struct{ acked, retried, dead, redelivered atomic.Int64 }

var stats sync.Map // consumer → *counters

func countersOf(consumer string) *counters {
	c, _ := stats.LoadOrStore(consumer, &counters{})
	return c.(*counters)
}

// Stats returns the counters of the given consumers in this process.
func Stats(consumers []string) map[string]ConsumerStats {
	out := map[string]ConsumerStats{}
	for _, name := range consumers {
		c := countersOf(name)
		out[name] = ConsumerStats{Acked: c.acked.Load(), Retried: c.retried.Load(), DeadLettered: c.dead.Load(), Redelivered: c.redelivered.Load()}
	}
	return out
}
