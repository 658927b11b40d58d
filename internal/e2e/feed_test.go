package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/natsapi"
	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// feedReader reads the account change feed as a platform would: a
// JetStream consumer of its own on ADSYNC_ACCOUNTS.
type feedReader struct {
	t    *testing.T
	msgs jetstream.MessagesContext
	seen []events.AccountChanged
}

func followFeed(t *testing.T, sys *System) *feedReader {
	t.Helper()
	js, err := jetstream.New(sys.Connect())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cons, err := js.OrderedConsumer(ctx, bus.StreamAccounts, jetstream.OrderedConsumerConfig{FilterSubjects: []string{events.FeedSubject("*")}})
	if err != nil {
		t.Fatalf("follow the feed: %v", err)
	}
	msgs, err := cons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(msgs.Stop)
	return &feedReader{t: t, msgs: msgs}
}

// next returns the next n changes, failing after timeout.
func (f *feedReader) next(n int, timeout time.Duration) []events.AccountChanged {
	f.t.Helper()
	got := make(chan []events.AccountChanged, 1)
	errc := make(chan error, 1)
	go func() {
		var out []events.AccountChanged
		for len(out) < n {
			m, err := f.msgs.Next()
			if err != nil {
				errc <- err
				return
			}
			var ev events.AccountChanged
			if err := json.Unmarshal(m.Data(), &ev); err != nil {
				errc <- err
				return
			}
			if m.Subject() != events.FeedSubject(ev.Domain) {
				errc <- fmt.Errorf("change %d of domain %s on subject %s", ev.Seq, ev.Domain, m.Subject())
				return
			}
			out = append(out, ev)
		}
		got <- out
	}()
	select {
	case out := <-got:
		f.seen = append(f.seen, out...)
		return out
	case err := <-errc:
		f.t.Fatalf("read the feed: %v", err)
	case <-time.After(timeout):
		f.t.Fatalf("the feed did not bring %d more changes within %s (%d so far)", n, timeout, len(f.seen))
	}
	return nil
}

// feedSeq returns the store's last committed change (the list answer's
// feed_seq).
func feedSeq(t *testing.T, sys *System) int64 {
	t.Helper()
	resp, err := natsapi.Request[natsapi.AccountsListResponse](context.Background(), sys.Connect(), natsapi.SubjectAccountsList, "account-writer", natsapi.AccountsListRequest{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return resp.FeedSeq
}

// checkSequence checks that the feed numbers its changes 1, 2, 3… with no
// gap and none twice.
func checkSequence(t *testing.T, seen []events.AccountChanged) {
	t.Helper()
	for i, ev := range seen {
		if ev.Seq != int64(i+1) {
			t.Fatalf("change %d of the feed has seq %d, want %d (a gap or a repeat)", i+1, ev.Seq, i+1)
		}
	}
}

// kinds returns "change local_name" per event, sorted.
func kinds(evs []events.AccountChanged) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Change + " " + ev.Account.Username
	}
	slices.Sort(out)
	return out
}

// replay applies the feed to a snapshot: each change carries the whole
// account after it.
func replay(snapshot map[string]accounts.Account, evs []events.AccountChanged) map[string]accounts.Account {
	for _, ev := range evs {
		snapshot[ev.Domain+"/"+ev.Account.ExternalID] = ev.Account
	}
	return snapshot
}

func byKey(list []accounts.Account) map[string]accounts.Account {
	m := map[string]accounts.Account{}
	for _, a := range list {
		m[a.Domain+"/"+a.ExternalID] = a
	}
	return m
}

// The account change feed after a first sync, a run that changes, a local
// hold set and lifted, and a plan held by the deletion guard then approved:
// exactly the changes expected, each once, numbered in commit order, each
// with the whole account as the store then has it; nothing for the held
// plan until it is approved. Replayed, the feed is the account store.
func TestAccountChangeFeed(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(20))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	feed := followFeed(t, sys)
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--mode", "full") // default limits: 500 and 10%
	dn := func(i int) string { return fmt.Sprintf("uid=user%07d,%s", i, openldap.UsersDN) }

	first := sys.MustComplete("lab-sync")
	created := feed.next(20, 30*time.Second)
	for _, ev := range created {
		if ev.Change != events.ChangeCreated || ev.RunID != first.RunID || ev.Actor != "sync" || !ev.Account.Active {
			t.Fatalf("first sync: %+v", ev)
		}
	}
	if want := byKey(sys.Accounts("lab")); !reflect.DeepEqual(replay(map[string]accounts.Account{}, created), want) {
		t.Fatal("the first sync's changes do not carry the accounts the store has")
	}

	// A run that changes a mail and removes a user.
	openldap.Modify(t, dn(3), "mail", "three@changed.example.org")
	openldap.Delete(t, dn(4))
	second := sys.MustComplete("lab-sync")
	got := feed.next(2, 30*time.Second)
	if k := kinds(got); !slices.Equal(k, []string{"deactivated user0000004", "updated user0000003"}) {
		t.Fatalf("second run's changes: %v", k)
	}
	for _, ev := range got {
		switch ev.Change {
		case events.ChangeUpdated:
			if !slices.Equal(ev.Fields, []string{"email"}) || ev.Account.Email != "three@changed.example.org" || ev.RunID != second.RunID {
				t.Errorf("update: %+v", ev)
			}
		case events.ChangeDeactivated:
			if ev.Reason != events.ReasonDirectoryRemoved || ev.Account.Active || ev.Account.InactiveReason != events.ReasonDirectoryRemoved {
				t.Errorf("deactivation: %+v", ev)
			}
		}
	}

	// A local hold, set and lifted.
	sys.MustCLI("accounts", "deactivate", "user0000005@lab", "--reason", "on leave")
	sys.MustCLI("accounts", "reactivate", "user0000005@lab")
	holds := feed.next(2, 30*time.Second)
	if holds[0].Change != events.ChangeHoldSet || holds[0].Reason != events.ReasonLocal || holds[0].Account.Active || holds[0].Account.LocalNote != "on leave" ||
		holds[0].Actor == "" || holds[0].Actor == "sync" || holds[0].RunID != "" {
		t.Fatalf("hold set: %+v", holds[0])
	}
	if holds[1].Change != events.ChangeHoldLifted || !holds[1].Account.Active {
		t.Fatalf("hold lifted: %+v", holds[1])
	}

	// A plan the deletion guard holds publishes nothing until approved.
	for i := 6; i <= 9; i++ { // 4 of 19 active: over 10%
		openldap.Delete(t, dn(i))
	}
	held, err := sys.RunJob("lab-sync")
	if err == nil || held.Outcome != "held" {
		t.Fatalf("outcome %s err %v, want held", held.Outcome, err)
	}
	if seq := feedSeq(t, sys); seq != 24 {
		t.Fatalf("after a held plan the feed's last change is %d, want 24: the held plan changed nothing", seq)
	}
	sys.MustCLI("run", "approve", held.RunID)
	approved := feed.next(4, 30*time.Second)
	for _, ev := range approved {
		if ev.Change != events.ChangeDeactivated || ev.RunID != held.RunID || ev.Reason != events.ReasonDirectoryRemoved {
			t.Fatalf("approved plan: %+v", ev)
		}
	}
	if seq := feedSeq(t, sys); seq != 28 {
		t.Fatalf("after the approval the feed's last change is %d, want 28", seq)
	}
	checkSequence(t, feed.seen)
	if !reflect.DeepEqual(replay(map[string]accounts.Account{}, feed.seen), byKey(sys.Accounts("lab"))) {
		t.Fatal("the feed replayed is not the account store")
	}

	// The command line follows the same feed.
	out := sys.MustCLI("accounts", "feed", "--from", "21", "--count", "3", "--json")
	var lines []events.AccountChanged
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev events.AccountChanged
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("accounts feed --json: %v in %q", err, line)
		}
		lines = append(lines, ev)
	}
	if len(lines) != 3 || !reflect.DeepEqual(lines, feed.seen[20:23]) {
		t.Fatalf("accounts feed --from 21 --count 3: %+v", lines)
	}
	text := sys.MustCLI("accounts", "feed", "--from", "23", "--count", "1")
	if !strings.Contains(text, "23\t") || !strings.Contains(text, "hold-set") || !strings.Contains(text, "user0000005@lab") {
		t.Fatalf("accounts feed --from 23: %q", text)
	}
}

// A platform that takes a snapshot of the accounts page by page while a
// first sync is going on, and then follows the feed from the first page's
// feed_seq+1, ends with exactly the accounts of the store.
func TestSnapshotThenFollowMissesNothing(t *testing.T) {
	t.Parallel()
	const users = 20000
	openldap := slapd.Start(t, slapd.WithUsers(users))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	sys.MustCLI("job", "create", "lab-sync", "--all-domains")
	nc := sys.Connect()
	list := func(req natsapi.AccountsListRequest) natsapi.AccountsListResponse {
		resp, err := natsapi.Request[natsapi.AccountsListResponse](context.Background(), nc, natsapi.SubjectAccountsList, "account-writer", req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	runID := requestRun(t, sys, "lab-sync")
	waitFor(t, "the first accounts", time.Minute, func() bool { return len(list(natsapi.AccountsListRequest{Limit: 1}).Accounts) > 0 })
	snapshot := map[string]accounts.Account{}
	req := natsapi.AccountsListRequest{Limit: 200}
	from := int64(-1)
	for {
		page := list(req)
		if from < 0 {
			from = page.FeedSeq + 1
		}
		for _, a := range page.Accounts {
			snapshot[a.Domain+"/"+a.ExternalID] = a
		}
		if !page.More {
			break
		}
		last := page.Accounts[len(page.Accounts)-1]
		req.AfterDomain, req.AfterUsername, req.AfterID = last.Domain, last.Username, last.ExternalID
	}
	waitFor(t, "the first sync", 2*time.Minute, func() bool { return outcomeOf(sys, "lab-sync", runID) == "completed" })
	final := list(natsapi.AccountsListRequest{Limit: 1})
	if from <= 1 || from > final.FeedSeq {
		t.Fatalf("the snapshot began at change %d of %d: not during the run", from-1, final.FeedSeq)
	}
	t.Logf("snapshot began at change %d of %d (%d accounts in it)", from-1, final.FeedSeq, len(snapshot))

	out := sys.MustCLI("accounts", "feed", "--from", strconv.FormatInt(from, 10), "--count", strconv.FormatInt(final.FeedSeq-from+1, 10), "--json")
	var follow []events.AccountChanged
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev events.AccountChanged
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		follow = append(follow, ev)
	}
	if len(follow) == 0 || follow[0].Seq != from || follow[len(follow)-1].Seq != final.FeedSeq {
		t.Fatalf("followed changes %d to %d, want %d to %d", follow[0].Seq, follow[len(follow)-1].Seq, from, final.FeedSeq)
	}
	got := replay(snapshot, follow)
	want := byKey(sys.Accounts("lab"))
	if len(got) != users || !reflect.DeepEqual(got, want) {
		t.Fatalf("snapshot + feed: %d accounts, the store %d; equal: %v", len(got), len(want), reflect.DeepEqual(got, want))
	}
}

// The example consumer in examples/feed-consumer, built and run as a
// platform would: it takes its snapshot, follows the feed through a run
// that changes accounts, and ends with the accounts of the store.
func TestFeedConsumerExample(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(300))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--mode", "full")
	sys.MustComplete("lab-sync")

	bin := filepath.Join(t.TempDir(), "feed-consumer")
	if out, err := exec.Command("go", "build", "-o", bin, "../../examples/feed-consumer").CombinedOutput(); err != nil {
		t.Fatalf("build the example: %v\n%s", err, out)
	}
	dump := filepath.Join(t.TempDir(), "accounts.json")
	var stdout, stderr syncBuffer
	cmd := exec.Command(bin, "-url", sys.NATSURL, "-token-file", filepath.Join(sys.Dir, "data", "nats.token"), "-until", "302", "-dump", dump)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor(t, "the example's snapshot", 30*time.Second, func() bool { return strings.Contains(stderr.String(), "snapshot: 300 accounts") })

	openldap.Modify(t, fmt.Sprintf("uid=user%07d,%s", 7, openldap.UsersDN), "mail", "seven@changed.example.org")
	openldap.Delete(t, fmt.Sprintf("uid=user%07d,%s", 8, openldap.UsersDN))
	sys.MustComplete("lab-sync")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the example failed: %v\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("the example did not reach change 302:\n%s\n%s", stdout.String(), stderr.String())
	}
	if out := stdout.String(); !strings.Contains(out, "301 ") || !strings.Contains(out, "302 ") {
		t.Fatalf("the example printed:\n%s", out)
	}
	raw, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	type slim struct {
		Domain, ExternalID, Username, LocalName, Email, InactiveReason string
		Groups                                                         []string
		Active                                                         bool
	}
	var got map[string]accounts.Account
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	shrink := func(m map[string]accounts.Account) map[string]slim {
		out := map[string]slim{}
		for k, a := range m {
			out[k] = slim{a.Domain, a.ExternalID, a.Username, a.LocalName, a.Email, a.InactiveReason, a.Groups, a.Active}
		}
		return out
	}
	if want := byKey(sys.Accounts("lab")); !reflect.DeepEqual(shrink(got), shrink(want)) {
		t.Fatalf("the example ends with %d accounts, the store has %d; they differ", len(got), len(want))
	}
}
