package clustertest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/bus"
	"github.com/adsync/adsync/internal/presence"
	"github.com/adsync/adsync/internal/testenv"
)

// testScaled runs a second guard and a second directory-reader: a run
// gives the same result; then the first ones die (SIGKILL) and the second
// ones carry the next run.
func (s *system) testScaled(t *testing.T) {
	second := map[string]*Service{}
	for _, name := range []string{app.Guard, app.DirectoryReader} {
		second[name] = startServiceFor(t, s.t, s.dir, s.config, name)
	}
	waitForInstances(t, s.cluster, map[string]int{app.Guard: 2, app.DirectoryReader: 2})
	changeMails(t, s.slapd, 101, 151, "scaled")
	stale := staleAccounts(t, listAccounts(t, s.config), directoryUsers(t, s.slapd))
	sum := runJob(t, s.config, "scaled")
	assertTotals(t, sum, 0, stale)
	assertAccountsEqualDirectory(t, listAccounts(t, s.config), directoryUsers(t, s.slapd))

	for _, name := range []string{app.Guard, app.DirectoryReader} {
		s.services[name].Kill(t)
		s.services[name] = second[name]
	}
	changeMails(t, s.slapd, 151, 201, "survivors")
	stale = staleAccounts(t, listAccounts(t, s.config), directoryUsers(t, s.slapd))
	start := time.Now()
	sum = runJob(t, s.config, "survivors")
	t.Logf("timing: run after killing the first guard and directory-reader took %v", time.Since(start).Round(time.Millisecond))
	assertTotals(t, sum, 0, stale)
	assertAccountsEqualDirectory(t, listAccounts(t, s.config), directoryUsers(t, s.slapd))
}

// waitForInstances waits until the heartbeats in adsync_servers show at
// least want[service] live processes of each service.
func waitForInstances(t *testing.T, cluster *testenv.Cluster, want map[string]int) {
	t.Helper()
	js, err := jetstream.New(cluster.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	pollFor(t, "service instances", 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		kv, err := js.KeyValue(ctx, bus.BucketServers)
		if err != nil {
			return err
		}
		hbs, err := presence.List(ctx, kv, time.Now(), 30*time.Second)
		if err != nil {
			return err
		}
		for svc, n := range want {
			got := 0
			for _, hb := range hbs {
				if slices.Contains(hb.Services, svc) {
					got++
				}
			}
			if got < n {
				return fmt.Errorf("%d %s processes alive, want %d", got, svc, n)
			}
		}
		return nil
	})
}
