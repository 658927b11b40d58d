package bus

import (
	"context"

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
