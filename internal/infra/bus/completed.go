package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
)

// RunCompleted reports whether the control stream holds a sync.completed
// of the run. It reads the stream's sync.completed messages one by one
// (direct gets: no consumer, so guard needs no more permissions), newest
// last; it is asked only when a lease is found held.
func (b *Bus) RunCompleted(ctx context.Context, runID string) (bool, error) {
	st, err := b.JS.Stream(ctx, StreamControl)
	if err != nil {
		return false, fmt.Errorf("look for the end of run %s: %w", runID, err)
	}
	subject := events.SubjectOf((events.SyncCompleted{}).EventName())
	seq := st.CachedInfo().State.FirstSeq
	for range 100000 {
		m, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("look for the end of run %s: %w", runID, err)
		}
		var r events.Run
		if json.Unmarshal(m.Data, &r) == nil && r.RunID == runID {
			return true, nil
		}
		seq = m.Sequence + 1
	}
	return false, nil
}
