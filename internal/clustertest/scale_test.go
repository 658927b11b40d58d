package clustertest

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/infra/bus"
)

// maxScaledRuns bounds the runs testScaled makes until every instance of
// guard and directory-reader has done part of the work.
const maxScaledRuns = 6

// scaledWork is, per scalable service, the durable consumer whose
// messages are its work: guard approves each sync.requested, a
// directory-reader reads one domain for each directory.requested.
var scaledWork = map[string]string{app.Guard: bus.ConsumerGuardRequested, app.DirectoryReader: bus.ConsumerReaderRequested}

// testScaled runs a second guard and a second directory-reader next to the
// first ones and syncs both domains until each of the four processes has
// handled at least one message of its work, as its own counters say (the
// consumers' counters each process shows in `nats micro stats`): each run
// gives exactly the result one instance gives. Then the first ones die
// (SIGKILL) and the second ones carry the next run alone.
//
// The work spreading is not guaranteed, so the runs go on until it has
// spread (at most maxScaledRuns). The instances share each durable pull
// consumer, and JetStream serves the waiting pull requests in turn: a
// request that wants more messages goes back to the end of the queue after
// each message (nats-server's waitQueue.pop). With both instances pulling,
// successive messages go to alternate instances, and the two
// directory.requested of a run usually go to the two readers; but an
// instance has no request waiting for a moment (between its pulls, or when
// its pull request expires and is renewed), and then the other gets the
// message. What is guaranteed, and checked at every run: each message is
// handled by one instance (every change applied once, one sync.completed),
// and the result equals the directories.
//
// tick, the third service that may run more than once, has its own test
// with two instances: TestTwoTicks.
func (s *system) testScaled(t *testing.T) {
	second := map[string]*Service{}
	for _, name := range []string{app.Guard, app.DirectoryReader} {
		second[name] = startServiceFor(t, s.t, s.dir, s.config, name)
	}
	waitForHeartbeats(t, s.cluster.Connect(t), map[string]int{app.Guard: 2, app.DirectoryReader: 2})
	before := map[string]map[string]int64{}
	for svc, consumer := range scaledWork {
		before[svc] = handledBy(t, s.nc, svc, consumer, 2)
	}

	for run := 1; ; run++ {
		job := fmt.Sprintf("scaled%d", run)
		changeEvery(t, s.openldap, users, run, 60, job)
		changeEvery(t, s.slapd2, users2, run, 25, job)
		want := s.pending(t)
		mustCLI(t, s.config, "job", "create", job, "--all-domains")
		s.assertRun(t, runJob(t, s.config, job), want)

		var idle, work []string
		for _, svc := range []string{app.Guard, app.DirectoryReader} {
			for id, n := range handledBy(t, s.nc, svc, scaledWork[svc], 2) {
				n -= before[svc][id] // a second instance has no count before
				work = append(work, fmt.Sprintf("%s %s: %d", svc, id, n))
				if n == 0 {
					idle = append(idle, svc+" "+id)
				}
			}
		}
		sort.Strings(work)
		if len(idle) == 0 {
			t.Logf("after %d runs of two domains, messages handled per instance: %s; reads per reader process: %s",
				run, strings.Join(work, ", "), s.readsPerReader(second[app.DirectoryReader]))
			break
		}
		if run == maxScaledRuns {
			t.Fatalf("after %d runs of two domains, %v handled no message of their work (%s): the second instances do nothing",
				run, idle, strings.Join(work, ", "))
		}
	}

	for _, name := range []string{app.Guard, app.DirectoryReader} {
		s.services[name].Kill(t)
		s.services[name] = second[name]
	}
	changeEvery(t, s.openldap, users, 7, 60, "survivors")
	changeEvery(t, s.slapd2, users2, 7, 25, "survivors")
	want := s.pending(t)
	mustCLI(t, s.config, "job", "create", "survivors", "--all-domains")
	start := time.Now()
	sum := runJob(t, s.config, "survivors")
	t.Logf("timing: run after killing the first guard and directory-reader took %v", time.Since(start).Round(time.Millisecond))
	s.assertRun(t, sum, want)
}

// readsPerReader says which domains each reader process read in the
// scaled runs, from their logs.
func (s *system) readsPerReader(second *Service) string {
	var out []string
	for i, r := range []*Service{s.services[app.DirectoryReader], second} {
		var reads []string
		for _, line := range strings.Split(r.Log(), "\n") {
			if !strings.Contains(line, `msg="reading directory"`) || !strings.Contains(line, " job=scaled") {
				continue
			}
			reads = append(reads, field(line, "job")+"/"+field(line, "domain"))
		}
		out = append(out, fmt.Sprintf("reader %d %v", i+1, reads))
	}
	return strings.Join(out, ", ")
}

// field returns the value of key=value in a text log line.
func field(line, key string) string {
	_, v, ok := strings.Cut(line, " "+key+"=")
	if !ok {
		return "?"
	}
	v, _, _ = strings.Cut(v, " ")
	return v
}

// handledBy returns, per live process of service (its micro instance id),
// how many messages of consumer it has handled and acknowledged: the
// counters each instance answers on the NATS service framework's
// $SRV.STATS (`nats micro stats adsync-SERVICE`). It waits until exactly
// instances processes answer.
func handledBy(t *testing.T, nc *nats.Conn, service, consumer string, instances int) map[string]int64 {
	t.Helper()
	var out map[string]int64
	pollFor(t, fmt.Sprintf("the micro stats of %d %s instances", instances, service), 30*time.Second, func() error {
		got, err := microStats(nc, "adsync-"+service, consumer)
		if err != nil {
			return err
		}
		if len(got) != instances {
			return fmt.Errorf("%d instances answered: %v", len(got), got)
		}
		out = got
		return nil
	})
	return out
}

// microStats asks every instance of a micro service for its stats and
// returns the acknowledged count of consumer per instance id.
func microStats(nc *nats.Conn, name, consumer string) (map[string]int64, error) {
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest("$SRV.STATS."+name, inbox, nil); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	// Every instance answers at once: the replies come within the first
	// wait, and a quiet moment after the last one ends the collection.
	wait := 2 * time.Second
	for {
		m, err := sub.NextMsg(wait)
		if errors.Is(err, nats.ErrTimeout) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		wait = 300 * time.Millisecond
		var st micro.Stats
		if err := json.Unmarshal(m.Data, &st); err != nil {
			return nil, fmt.Errorf("stats of %s: %w", name, err)
		}
		found := false
		for _, ep := range st.Endpoints {
			var data struct {
				Consumers map[string]bus.ConsumerStats `json:"consumers"`
			}
			if json.Unmarshal(ep.Data, &data) == nil && data.Consumers != nil {
				c, ok := data.Consumers[consumer]
				if !ok {
					return nil, fmt.Errorf("stats of %s %s have no consumer %s: %s", name, st.ID, consumer, ep.Data)
				}
				out[st.ID], found = c.Acked, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("stats of %s %s carry no consumer counters: %s", name, st.ID, m.Data)
		}
	}
}
