package directoryreader

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestBackgroundHandsOverItsResult(t *testing.T) {
	boom := errors.New("tombstone search refused")
	for _, tt := range []struct {
		name string
		ids  []string
		err  error
	}{
		{name: "deleted users", ids: []string{"a", "b"}},
		{name: "none deleted"},
		{name: "the search fails", err: boom},
	} {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			b := inBackground(func() ([]string, error) {
				<-release
				return tt.ids, tt.err
			})
			// inBackground returned while the search cannot end yet.
			select {
			case <-b.done:
				t.Fatal("the search ended before it was released")
			default:
			}
			close(release)
			ids, err := b.wait(context.Background())
			if !errors.Is(err, tt.err) || !slices.Equal(ids, tt.ids) {
				t.Fatalf("wait = %q, %v; want %q, %v", ids, err, tt.ids, tt.err)
			}
		})
	}
	t.Run("nothing to read", func(t *testing.T) {
		var b *background[[]string]
		if ids, err := b.wait(context.Background()); ids != nil || err != nil {
			t.Fatalf("wait = %q, %v; want nothing", ids, err)
		}
	})
	t.Run("the read ends first", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		b := inBackground(func() ([]string, error) { <-release; return nil, nil })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := b.wait(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("wait = %v, want context.Canceled", err)
		}
	})
}
