// Package bustest gives tests a provisioned bus on an embedded NATS server
// of their own (real JetStream, loopback, a free port), closed when the
// test ends.
package bustest

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/embeddednats"
)

// Start starts the server, connects with topology and provisions it.
func Start(t testing.TB, topology bus.TopologyOptions) *bus.Bus {
	t.Helper()
	srv, err := embeddednats.Start(embeddednats.Options{StoreDir: t.TempDir(), Listen: "127.0.0.1:-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	ctx := context.Background()
	b, err := bus.Connect(ctx, bus.Options{URL: srv.ClientURL(), Name: t.Name()}, topology, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if err := b.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	return b
}
