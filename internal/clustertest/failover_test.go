package clustertest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/infra/bus"
)

// Roles a NATS node can hold that a run depends on: the leader of each
// stream, of the JetStream meta group (stream and consumer management), and
// of a durable consumer.
const (
	roleMeta    = "JetStream meta group"
	roleWriterC = "account-writer's consumer " + bus.ConsumerWriterChanges
	// roleAll is a case, not a role: one node holds every role at once.
	roleAll = "every stream, the meta group and account-writer's consumer"
)

// leaderKill is one case of testLeaderKills: the node that holds role
// dies (SIGKILL) once the run has published its first killOn event.
type leaderKill struct {
	role   string // a stream name, roleMeta, roleWriterC or roleAll
	killOn string // wire name
}

// testLeaderKills kills (SIGKILL), in the middle of a full read of both
// domains in which 120 users changed, the NATS node that leads each
// stream, the JetStream meta group and account-writer's durable consumer,
// one case after the other, and starts it again once the run ended; the
// last case kills the node that leads all of them at once. The node dies
// on the run's first directory page (on the first account.changes when
// what it leads carries those). Each run must complete on the two nodes
// left, with exact totals, each change applied once, the accounts equal to
// the directories, nothing dead-lettered and one sync.completed.
//
// Left alone, a node often leads several of these at once, so before each
// case leader step-downs make the victim lead only the case's role.
func (s *system) testLeaderKills(t *testing.T) {
	for i, k := range []leaderKill{
		{role: bus.StreamPages, killOn: evPage},
		{role: bus.StreamChanges, killOn: evChanges},
		{role: bus.StreamControl, killOn: evPage},
		{role: roleMeta, killOn: evPage},
		{role: roleWriterC, killOn: evChanges},
		{role: roleAll, killOn: evPage},
	} {
		if !t.Run(k.role, func(t *testing.T) { s.killLeader(t, fmt.Sprintf("failover%d", i+1), i+2, k) }) {
			return // the next cases would run on a cluster in an unknown state
		}
	}
}

// killLeader changes users (every 30th of "lab" and every 25th of "lab2",
// from user first), runs job, kills the node holding k.role on the run's
// first k.killOn event, waits for the run to end, starts the node again
// and checks the run.
func (s *system) killLeader(t *testing.T, job string, first int, k leaderKill) {
	changeEvery(t, s.openldap, users, first, 30, job)
	changeEvery(t, s.slapd2, users2, first, 25, job)
	want := s.pending(t)
	mustCLI(t, s.config, "job", "create", job, "--all-domains", "--mode", "full")
	// The victim holds the case's role and none of the others (roleAll:
	// every one). The kill happens the moment the event is seen, without a
	// round trip to the JetStream API: the leaders are those of the stable
	// cluster before the run.
	victim, leaders := s.isolate(t, k.role)
	node := s.cluster.Node(victim)
	var led []string
	for role, i := range leaders {
		if i == victim {
			led = append(led, role)
		}
	}
	sort.Strings(led)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	failures := failedReads(ctx, t, s, start)
	// No `job run --wait`: its ordered consumer lives on one node, and
	// killing that node has been seen to leave the command waiting
	// (README.md); the job history tells when the run ended.
	runID := requestRun(t, s.config, job)
	s.events.wait(t, job, k.killOn, time.Minute)
	if len(s.events.all(job, evSyncCompleted)) > 0 {
		t.Fatalf("run %s finished before the first %s: not in the middle of a run", runID, k.killOn)
	}
	node.Kill()
	killedAt := time.Now()
	t.Logf("killed %s (leader of %s) on the first %s, %v after the run was requested; %d pages published", node.Name,
		strings.Join(led, ", "), k.killOn, killedAt.Sub(start).Round(time.Millisecond), len(s.events.all(job, evPage)))
	restarted := false
	defer func() {
		if !restarted {
			node.Start() // a case that failed leaves the cluster whole
		}
	}()

	// A healthy pipeline finishes within an election (a few seconds), an
	// ack wait (5s) and a publish timeout (30s) of the kill.
	sum := s.awaitRun(t, job, runID, failures, killedAt, 2*time.Minute)
	t.Logf("timing: run completed %v after %s was killed (%v in all, %d attempts)", time.Since(killedAt).Round(time.Millisecond),
		node.Name, time.Since(start).Round(time.Millisecond), sum.Attempts)
	back := time.Now()
	node.Start()
	restarted = true
	t.Logf("timing: %s back and healthy in %v", node.Name, time.Since(back).Round(time.Millisecond))
	if sum.Outcome != events.OutcomeCompleted {
		t.Fatalf("run %s with a dead NATS node: outcome %s, reasons %v", sum.RunID, sum.Outcome, sum.Reasons)
	}
	// Whatever the failover set off (a redelivered read or batch) settles
	// first: the checks see its effects.
	waitQuiet(t, s.nc)
	s.assertRun(t, sum, want)
}

// movable are the roles a leader step-down moves from node to node (the
// meta group's needs the system account, which the test cluster has not).
var movable = []string{bus.StreamPages, bus.StreamChanges, bus.StreamControl, roleWriterC}

// isolate moves leaderships until one node holds role and no other
// movable role, and is not the meta leader unless role is roleMeta (with
// roleAll: until the meta leader leads everything). It returns that node
// and who leads what.
func (s *system) isolate(t *testing.T, role string) (int, map[string]int) {
	t.Helper()
	leaders := s.leaders(t)
	meta := leaders[roleMeta]
	if role == roleAll {
		for _, r := range movable {
			if leaders[r] != meta {
				s.moveLeader(t, r, meta)
			}
		}
		leaders = s.leaders(t)
		for _, i := range leaders {
			if i != meta {
				t.Fatalf("could not make %s the leader of everything: leaders %v", s.cluster.Node(meta).Name, s.named(leaders))
			}
		}
		return meta, leaders
	}
	victim := leaders[role]
	if role != roleMeta && victim == meta {
		victim = s.otherNode(meta)
		s.moveLeader(t, role, victim)
	}
	for _, r := range movable {
		if r != role && leaders[r] == victim {
			s.moveLeader(t, r, s.otherNode(victim))
		}
	}
	leaders = s.leaders(t)
	for r, i := range leaders {
		if (r == role) != (i == victim) {
			t.Fatalf("could not make %s the only node of %s: leaders %v", s.cluster.Node(victim).Name, role, s.named(leaders))
		}
	}
	return victim, leaders
}

// otherNode returns a node other than not.
func (s *system) otherNode(not int) int { return (not + 1) % s.cluster.Size() }

// moveLeader hands the leadership of a movable role to node to and waits
// until it holds it.
func (s *system) moveLeader(t *testing.T, role string, to int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if role == roleWriterC {
		err = s.cluster.MoveConsumerLeader(ctx, bus.StreamChanges, bus.ConsumerWriterChanges, to)
	} else {
		err = s.cluster.MoveStreamLeader(ctx, role, to)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// leaderOf returns the node that holds role, or -1 if none is known
// before ctx ends.
func (s *system) leaderOf(ctx context.Context, role string) int {
	switch role {
	case roleMeta:
		return s.cluster.MetaLeader(ctx)
	case roleWriterC:
		return s.cluster.ConsumerLeader(ctx, bus.StreamChanges, bus.ConsumerWriterChanges)
	default:
		return s.cluster.StreamLeader(ctx, role)
	}
}

// named writes a leader map with node names.
func (s *system) named(leaders map[string]int) map[string]string {
	out := map[string]string{}
	for role, i := range leaders {
		out[role] = s.cluster.Node(i).Name
	}
	return out
}

// leaders returns the node that holds each role.
func (s *system) leaders(t *testing.T) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := map[string]int{}
	for _, role := range append([]string{roleMeta}, movable...) {
		if out[role] = s.leaderOf(ctx, role); out[role] < 0 {
			t.Fatalf("no leader of %s found", role)
		}
	}
	return out
}

// requestRun requests a run of job (`job run JOB --json`) and returns its id.
func requestRun(t *testing.T, config, job string) string {
	t.Helper()
	var req struct {
		RunID string `json:"run_id"`
	}
	out := mustCLI(t, config, "job", "run", job, "--json")
	if err := json.Unmarshal([]byte(out), &req); err != nil || req.RunID == "" {
		t.Fatalf("job run %s --json printed %q (%v)", job, out, err)
	}
	return req.RunID
}

// awaitRun polls the job history until the run has finished and returns
// its summary. It fails at once if the reader gives up on a domain because
// a page could not be published, and after timeout.
func (s *system) awaitRun(t *testing.T, job, runID string, failures <-chan events.DirectoryFailed, killedAt time.Time, timeout time.Duration) cli.RunSummary {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		select {
		case f := <-failures:
			t.Fatalf("the directory-reader lost a page publication to the killed node and failed the read for good "+
				"(attempt %d, pages_read %d, will_retry %t, %v after the kill): %s", f.Attempt, f.PagesRead, f.WillRetry,
				time.Since(killedAt).Round(time.Millisecond), f.Reason)
		default:
		}
		// A command can fail while the cluster elects new leaders: it is
		// asked again. It can also hang (README.md: its ordered consumer
		// can land on the node that just died): it is given up on.
		ctx, cancel := context.WithTimeout(context.Background(), historyTimeout)
		r := runCLIContext(ctx, s.config, "job", "history", job, "--json", "--limit", "0")
		hung := ctx.Err() != nil
		cancel()
		var h []cli.RunSummary
		switch {
		case hung:
			last = fmt.Sprintf("job history hung for %v", historyTimeout)
			t.Logf("adsync job history hung for %v, %v after the kill: killed, asked again", historyTimeout, time.Since(killedAt).Round(time.Millisecond))
		case r.Err == nil && json.Unmarshal([]byte(r.Stdout), &h) == nil:
			for _, sum := range h {
				if sum.RunID == runID && sum.FinishedAt != nil {
					return sum
				}
				if sum.RunID == runID {
					last = fmt.Sprintf("outcome %s, attempts %d", sum.Outcome, sum.Attempts)
				}
			}
		default:
			last = fmt.Sprintf("job history: %v %s", r.Err, r.Stderr)
		}
		if time.Now().After(deadline) {
			stuck := ""
			if readerStuck(s.services[app.DirectoryReader].Log(), job) {
				stuck = "; the directory-reader's log shows a read of the run that never ended"
			}
			t.Fatalf("run %s not finished %v after the node was killed (last seen: %s)%s", runID,
				time.Since(killedAt).Round(time.Second), last, stuck)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// historyTimeout bounds one `adsync job history` while awaitRun polls.
const historyTimeout = 15 * time.Second

// readerStuck reports whether a reader's log shows a read of the job's
// run that started and never ended.
func readerStuck(log, job string) bool {
	started, ended := readsOf(log, job)
	return started > ended
}

// failedReads delivers the directory.failed events, from since on, that
// give up on a domain because publishing failed (the read itself went
// fine). It reads ADSYNC_CONTROL with an ordered consumer, which survives
// the loss of a node (a core subscription would miss what is published
// while its connection moves to another node).
func failedReads(ctx context.Context, t *testing.T, s *system, since time.Time) <-chan events.DirectoryFailed {
	out := make(chan events.DirectoryFailed, 1)
	js, err := jetstream.New(s.cluster.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		var cons jetstream.Consumer
		for cons == nil && ctx.Err() == nil {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			cons, _ = js.OrderedConsumer(cctx, bus.StreamControl, jetstream.OrderedConsumerConfig{
				FilterSubjects: []string{events.Subject(events.DirectoryFailed{})},
				DeliverPolicy:  jetstream.DeliverByStartTimePolicy, OptStartTime: &since,
			})
			cancel()
		}
		for ctx.Err() == nil {
			m, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second))
			if err != nil {
				continue
			}
			var f events.DirectoryFailed
			if json.Unmarshal(m.Data(), &f) == nil && !f.WillRetry && strings.Contains(f.Reason, "publish") {
				out <- f
				return
			}
		}
	}()
	return out
}
