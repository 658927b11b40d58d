package diff

import (
	"context"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
)

// HandleCompleted records that a read of a domain completed without error;
// once its last page is processed too, the attempt is finished (see
// finishIfReady).
func (s *Service) HandleCompleted(ctx context.Context, c *events.DirectoryCompleted) error {
	raw, _ := json.Marshal(c)
	return s.recordEnding(ctx, Key{RunID: c.RunID, Domain: c.Domain, Attempt: c.Attempt}, endingCompleted, raw, c.Pages)
}

// HandleFailed records that a read failed for good (an attempt that will be
// retried changes nothing here). Nothing is deactivated for it.
func (s *Service) HandleFailed(ctx context.Context, f *events.DirectoryFailed) error {
	if f.WillRetry {
		return nil
	}
	raw, _ := json.Marshal(f)
	return s.recordEnding(ctx, Key{RunID: f.RunID, Domain: f.Domain, Attempt: f.Attempt}, endingFailed, raw, f.PagesRead)
}

func (s *Service) recordEnding(ctx context.Context, k Key, kind string, raw []byte, pages int) error {
	return s.inTx(ctx, func(ctx context.Context, tx *Tx) error {
		prog, err := tx.Progress(k)
		if err != nil || prog.Finished || prog.EndingKind != "" {
			return err
		}
		// Another attempt finished the run's domain: this one is late.
		if done, err := tx.DomainFinished(k.RunID, k.Domain); err != nil || done {
			return err
		}
		if err := tx.SetEnding(k, kind, raw, pages); err != nil {
			return err
		}
		return s.finishIfReady(ctx, tx, k)
	})
}
