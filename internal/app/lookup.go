package app

import (
	"context"

	"github.com/nats-io/nats.go"

	"github.com/adsync/adsync/internal/natsapi"
	diff "github.com/adsync/adsync/services/diff"
)

// lookupClient asks job-server readers to look ids up in a directory.
type lookupClient struct{ nc *nats.Conn }

func (l lookupClient) Lookup(ctx context.Context, domain string, ids []string) (diff.Found, error) {
	resp, err := natsapi.Request[natsapi.LookupResponse](ctx, l.nc, natsapi.SubjectDirectoryLookup, "directory-reader", natsapi.LookupRequest{Domain: domain, IDs: ids})
	f := diff.Found{DNs: resp.Found, InScope: map[string]bool{}}
	for _, id := range resp.InScope {
		f.InScope[id] = true
	}
	return f, err
}
