package clustertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/testenv/natscluster"
)

// accountsFile is the NATS accounts block that deploy/ ships.
const accountsFile = "../../deploy/nats/cluster/accounts.conf"

// natsUsers are the users of accountsFile, with the environment variable
// that holds each one's password.
var natsUsers = []string{"adsync-admin", "adsync-tick", "adsync-guard", "adsync-directory-reader", "adsync-diff", "adsync-account-writer", "adsync-feed", "sys"}

// passwords gives every user of accountsFile a random password.
type passwords map[string]string

func newPasswords(t *testing.T) passwords {
	t.Helper()
	pw := passwords{}
	for _, u := range natsUsers {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			t.Fatal(err)
		}
		pw[u] = hex.EncodeToString(b[:])
	}
	return pw
}

// env is the nats-server environment that accountsFile reads them from:
// adsync-tick's is ADSYNC_TICK_PASSWORD, sys's NATS_SYS_PASSWORD.
func (pw passwords) env() []string {
	var vars []string
	for u, p := range pw {
		name := strings.ToUpper(strings.ReplaceAll(u, "-", "_")) + "_PASSWORD"
		if u == "sys" {
			name = "NATS_SYS_PASSWORD"
		}
		vars = append(vars, name+"="+p)
	}
	return vars
}

// permissionsCluster starts a 3-node cluster with the shipped accounts.
func permissionsCluster(t *testing.T, pw passwords) *natscluster.Cluster {
	t.Helper()
	accounts, err := os.ReadFile(accountsFile)
	if err != nil {
		t.Fatal(err)
	}
	return natscluster.Start(t, natscluster.WithConfig(string(accounts)), natscluster.WithEnv(pw.env()...),
		natscluster.WithAuth("adsync-admin", pw["adsync-admin"]))
}

// connectBus connects as user the way an adsync service does.
func connectBus(t *testing.T, c *natscluster.Cluster, user string, pw passwords) *bus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := bus.Connect(ctx, bus.Options{URL: c.URLs(), Name: "adsync " + user, User: user, Password: pw[user], Timeout: 5 * time.Second},
		bus.TopologyOptions{Replicas: 3}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// violations collects the asynchronous errors of a raw connection: the
// server reports a refused publish or subscribe as a permissions violation.
type violations struct{ errs chan error }

// connectRaw connects as user and reports the connection's async errors.
func connectRaw(t *testing.T, c *natscluster.Cluster, user string, pw passwords) (*nats.Conn, *violations) {
	t.Helper()
	v := &violations{errs: make(chan error, 100)}
	nc, err := nats.Connect(c.URLs(), nats.UserInfo(user, pw[user]), nats.Name("raw "+user),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { v.errs <- err }))
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	return nc, v
}

// expect waits for the server to refuse subject.
func (v *violations) expect(t *testing.T, op, subject string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case err := <-v.errs:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), `"`+subject+`"`) {
				return
			}
			t.Errorf("while waiting for the refusal of %s %s: unexpected error %v", op, subject, err)
		case <-deadline:
			t.Errorf("%s %s was not refused", op, subject)
			return
		}
	}
}

// none checks that nothing was refused so far.
func (v *violations) none(t *testing.T, nc *nats.Conn) {
	t.Helper()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case err := <-v.errs:
			t.Errorf("refused: %v", err)
		default:
			return
		}
	}
}

// sampleEvent is a publishable event of wire name: a zero value of its
// type with the run filled in (its message id is then unique to runID).
func sampleEvent(t *testing.T, name, runID string) events.Event {
	t.Helper()
	for _, e := range events.All() {
		if e.EventName() != name {
			continue
		}
		v := reflect.New(reflect.TypeOf(e).Elem())
		if f := v.Elem().FieldByName("Run"); f.IsValid() && f.CanSet() {
			f.Set(reflect.ValueOf(events.Run{RunID: runID, Job: "perm", Trigger: events.TriggerManual, RequestedAt: time.Now().UTC()}))
		}
		return v.Interface().(events.Event)
	}
	t.Fatalf("no event named %s in events.All()", name)
	return nil
}
