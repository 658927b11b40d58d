package diff

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/holds"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/testenv"
)

// benchPages returns a run's pages of realistic entries.
func benchPages(r runOf, pages, perPage int, id func(int) string) []*events.DirectoryPage {
	out := make([]*events.DirectoryPage, 0, pages)
	for p := range pages {
		pg := &events.DirectoryPage{Run: events.Run{RunID: r.id, Job: "j"}, Domain: "corp", Attempt: r.attempt, Seq: p + 1, ObservedAt: r.at}
		for i := range perPage {
			n := p*perPage + i
			pg.Entries = append(pg.Entries, events.DirectoryEntry{
				ID: id(n), DN: fmt.Sprintf("uid=user%07d,ou=people,dc=example,dc=org", n),
				Username: fmt.Sprintf("user%07d", n), Email: fmt.Sprintf("user%07d@example.org", n),
				DisplayName: fmt.Sprintf("User %07d", n), GivenName: "User", Surname: fmt.Sprintf("%07d", n),
			})
		}
		out = append(out, pg)
	}
	return out
}

// BenchmarkHandlePageUnchanged: a run of 100,000 entries that all match
// what diff recorded (the no-change sync); reports ns per entry.
func BenchmarkHandlePageUnchanged(b *testing.B) {
	for _, ids := range testenv.IDOrders {
		b.Run(ids.Name, func(b *testing.B) {
			const pages, perPage = 100, 1000
			ctx := context.Background()
			s, err := New(ctx, Config{DBPath: filepath.Join(b.TempDir(), "diff.db")}, &recorder{},
				fakeDirectory{}, &memHolds{m: map[string]holds.Plan{}})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			run := func(i int) {
				r := runOf{id: fmt.Sprintf("run-%d", i), attempt: 1, at: t0.Add(time.Duration(i) * time.Minute)}
				for _, p := range benchPages(r, pages, perPage, ids.ID) {
					if err := s.HandlePage(ctx, p); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.HandleCompleted(ctx, r.completed(pages, pages*perPage)); err != nil {
					b.Fatal(err)
				}
			}
			run(0)
			b.ResetTimer()
			for i := range b.N {
				run(i + 1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pages*perPage), "ns/entry")
		})
	}
}

// encodingPublisher encodes what it is given as the bus would, and drops
// it.
type encodingPublisher struct{}

func (encodingPublisher) Publish(_ context.Context, evs ...events.Event) error {
	for _, ev := range evs {
		if _, err := (bus.Marshaler{}).Marshal(ev); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkHandlePageNew: a first sync of 100,000 entries (every one new
// to diff), their changes encoded as for the bus, applied as it reads
// (accounts.stream_first_sync's default) or whole; reports ns per entry.
func BenchmarkHandlePageNew(b *testing.B) {
	for _, ids := range testenv.IDOrders {
		for _, stream := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/stream=%v", ids.Name, stream), func(b *testing.B) { benchHandlePageNew(b, ids.ID, stream) })
		}
	}
}

func benchHandlePageNew(b *testing.B, id func(int) string, stream bool) {
	const pages, perPage = 100, 1000
	ctx := context.Background()
	for i := range b.N {
		b.StopTimer()
		s, err := New(ctx, Config{DBPath: filepath.Join(b.TempDir(), "diff.db"), StreamFirstSync: stream}, encodingPublisher{},
			fakeDirectory{}, &memHolds{m: map[string]holds.Plan{}})
		if err != nil {
			b.Fatal(err)
		}
		r := runOf{id: fmt.Sprintf("run-%d", i), attempt: 1, at: t0}
		ps := benchPages(r, pages, perPage, id)
		b.StartTimer()
		for _, p := range ps {
			if err := s.HandlePage(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.HandleCompleted(ctx, r.completed(pages, pages*perPage)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pages*perPage), "ns/entry")
}
