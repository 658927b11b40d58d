package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// ReadToEnd gives fn every message a consumer has now, in batches of
// batch, and returns when none is left (messages published meanwhile may
// or may not come).
func ReadToEnd(ctx context.Context, cons jetstream.Consumer, batch int, fn func(jetstream.Msg)) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		msgs, err := cons.FetchNoWait(batch)
		if err != nil {
			return err
		}
		got, pending := 0, uint64(0)
		for m := range msgs.Messages() {
			got++
			if md, err := m.Metadata(); err == nil {
				pending = md.NumPending
			}
			fn(m)
		}
		if err := msgs.Error(); err != nil {
			return err
		}
		if got == 0 || pending == 0 {
			return nil
		}
	}
}

// EachNewest gives fn a stream's messages newest first, below before (0:
// from the last), reading at most scan of them, deleted ones skipped,
// while fn says to go on. It returns where to go on from (the before of
// the next call), or 0 when no older message is left.
func EachNewest(ctx context.Context, st jetstream.Stream, before uint64, scan int, fn func(*jetstream.RawStreamMsg) bool) (uint64, error) {
	state := st.CachedInfo().State
	if state.Msgs == 0 {
		return 0, nil
	}
	seq := state.LastSeq
	if before > 0 && before-1 < seq {
		seq = before - 1
	}
	for scanned := 0; seq >= state.FirstSeq && seq > 0; seq-- {
		if scanned == scan {
			return seq + 1, nil
		}
		scanned++
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("message %d of %s: %w", seq, st.CachedInfo().Config.Name, err)
		}
		if !fn(m) {
			if seq == state.FirstSeq {
				return 0, nil
			}
			return seq, nil
		}
	}
	return 0, nil
}
