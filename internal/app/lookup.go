package app

import (
	"context"

	"github.com/nats-io/nats.go"

	"github.com/adsync/adsync/internal/api"
)

// lookupClient asks job-server readers to look ids up in a directory.
type lookupClient struct{ nc *nats.Conn }

func (l lookupClient) Lookup(ctx context.Context, domain string, ids []string) (map[string]string, error) {
	resp, err := api.Request[api.LookupResponse](ctx, l.nc, api.SubjectDirectoryLookup, "directory-reader", api.LookupRequest{Domain: domain, IDs: ids})
	return resp.Found, err
}
