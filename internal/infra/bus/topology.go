package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
)

// Stream names.
const (
	StreamControl    = "ADSYNC_CONTROL"
	StreamPages      = "ADSYNC_PAGES"
	StreamChanges    = "ADSYNC_CHANGES"
	StreamDeadLetter = "ADSYNC_DEADLETTER"
	// StreamAccounts is the account change feed (account.changed.v1),
	// for the platform whose accounts adsync keeps.
	StreamAccounts = "ADSYNC_ACCOUNTS"
	// StreamAudit is the audit log (audit.recorded.v1).
	StreamAudit = "ADSYNC_AUDIT"
	// StreamNotify holds the alerts to deliver (notification.requested.v1).
	StreamNotify = "ADSYNC_NOTIFY"
)

// DeadLetterSubjectPrefix prefixes the subject of every dead letter; the
// consumer's name completes it.
const DeadLetterSubjectPrefix = "adsync.deadletter."

// Key-value buckets.
const (
	BucketJobs     = "adsync_jobs"
	BucketSettings = "adsync_settings"
	BucketLeases   = "adsync_leases"
	BucketServers  = "adsync_servers"
	BucketTicks    = "adsync_ticks"
	BucketHolds    = "adsync_holds"
	BucketMarks    = "adsync_watermarks"
	// BucketAdmins holds the console's local administrators (password
	// hashes); BucketSessions its sign-in sessions, which expire when idle.
	BucketAdmins = "adsync_admins"
	// BucketAlerts holds the notifier's open alerts (fired, not resolved).
	BucketAlerts   = "adsync_alerts"
	BucketSessions = "adsync_sessions"
)

// TopologyOptions size the streams; zero values take defaults.
type TopologyOptions struct {
	// Replicas of every stream, bucket and consumer: 1 on one machine,
	// 3 on a cluster.
	Replicas int
	// History is how long run events are kept (job history); default 30 days.
	History time.Duration
	// DataRetention bounds how long unprocessed pages and changes are kept;
	// default 7 days.
	DataRetention time.Duration
	// Duplicates is the publish de-duplication window; default 10 minutes.
	Duplicates time.Duration
	// ServerTTL is how long a server's heartbeat counts as alive.
	ServerTTL time.Duration
	// AckWait is the ack wait of every consumer (handlers in progress
	// extend it); default 30 seconds.
	AckWait time.Duration
	// FeedMaxAge is how long the account change feed keeps an event
	// (feed.max_age); default 30 days.
	FeedMaxAge time.Duration
	// SessionIdle is how long a console session lasts without a request;
	// default 30 minutes.
	SessionIdle time.Duration
	// AuditMaxAge is how long the audit log keeps an entry (audit.max_age);
	// default a year.
	AuditMaxAge time.Duration
}

func (o TopologyOptions) withDefaults() TopologyOptions {
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.History <= 0 {
		o.History = 30 * 24 * time.Hour
	}
	if o.DataRetention <= 0 {
		o.DataRetention = 7 * 24 * time.Hour
	}
	if o.Duplicates <= 0 {
		o.Duplicates = 10 * time.Minute
	}
	// JetStream requires the de-duplication window within the max age.
	o.Duplicates = min(o.Duplicates, o.History, o.DataRetention)
	if o.ServerTTL <= 0 {
		o.ServerTTL = 30 * time.Second
	}
	if o.AckWait <= 0 {
		o.AckWait = 30 * time.Second
	}
	if o.FeedMaxAge <= 0 {
		o.FeedMaxAge = 30 * 24 * time.Hour
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = 30 * time.Minute
	}
	if o.AuditMaxAge <= 0 {
		o.AuditMaxAge = 365 * 24 * time.Hour
	}
	return o
}

// ConsumerSpec declares one durable consumer and how its handler runs.
type ConsumerSpec struct {
	// Service is the adsync service whose handler consumes.
	Service string
	Durable string
	Stream  string
	Event   string // wire name it consumes
	// MaxDeliver bounds deliveries (crash redeliveries and retries) before
	// the message is dead-lettered.
	MaxDeliver int
	// Concurrency is how many messages the handler processes at once; 1
	// keeps them in stream order.
	Concurrency   int
	MaxAckPending int
}

// Consumer names, one per handler.
const (
	ConsumerGuardRequested  = "guard-sync-requested"
	ConsumerGuardCompleted  = "guard-sync-completed"
	ConsumerReaderApproved  = "reader-sync-approved"
	ConsumerReaderRequested = "reader-directory-requested"
	ConsumerDiffPages       = "diff-directory-page"
	ConsumerDiffCompleted   = "diff-directory-completed"
	ConsumerDiffFailed      = "diff-directory-failed"
	ConsumerWriterChanges   = "writer-account-changes"
	ConsumerWriterCompleted = "writer-changes-completed"
	ConsumerDiffDecided     = "diff-plan-decided"
	ConsumerWriterDecided   = "writer-plan-decided"
	ConsumerNotifyCompleted = "notifier-sync-completed"
	ConsumerNotifyRejected  = "notifier-sync-rejected"
	ConsumerNotifyFailed    = "notifier-directory-failed"
	ConsumerNotifyDeliver   = "notifier-deliver"
)

// Consumers lists every durable consumer of the pipeline.
func Consumers() []ConsumerSpec {
	return []ConsumerSpec{
		{Service: "guard", Durable: ConsumerGuardRequested, Stream: StreamControl, Event: (events.SyncRequested{}).EventName(), MaxDeliver: 10, Concurrency: 1},
		{Service: "guard", Durable: ConsumerGuardCompleted, Stream: StreamControl, Event: (events.SyncCompleted{}).EventName(), MaxDeliver: 10, Concurrency: 1},
		{Service: "directory-reader", Durable: ConsumerReaderApproved, Stream: StreamControl, Event: (events.SyncApproved{}).EventName(), MaxDeliver: 10, Concurrency: 1},
		// Requeue of a failed read is JetStream redelivery of this message:
		// the handler stops retrying after the job's own attempt limit,
		// which can never exceed this bound.
		{Service: "directory-reader", Durable: ConsumerReaderRequested, Stream: StreamControl, Event: (events.DirectoryRequested{}).EventName(), MaxDeliver: MaxRequeueAttempts + 5, Concurrency: 4},
		{Service: "diff", Durable: ConsumerDiffPages, Stream: StreamPages, Event: (events.DirectoryPage{}).EventName(), MaxDeliver: 10, Concurrency: 1, MaxAckPending: 256},
		{Service: "diff", Durable: ConsumerDiffCompleted, Stream: StreamControl, Event: (events.DirectoryCompleted{}).EventName(), MaxDeliver: 200, Concurrency: 1},
		{Service: "diff", Durable: ConsumerDiffFailed, Stream: StreamControl, Event: (events.DirectoryFailed{}).EventName(), MaxDeliver: 10, Concurrency: 1},
		{Service: "account-writer", Durable: ConsumerWriterChanges, Stream: StreamChanges, Event: (events.AccountChanges{}).EventName(), MaxDeliver: 10, Concurrency: 1, MaxAckPending: 256},
		{Service: "account-writer", Durable: ConsumerWriterCompleted, Stream: StreamControl, Event: (events.ChangesCompleted{}).EventName(), MaxDeliver: 200, Concurrency: 1},
		{Service: "diff", Durable: ConsumerDiffDecided, Stream: StreamControl, Event: (events.PlanDecided{}).EventName(), MaxDeliver: 20, Concurrency: 1},
		{Service: "account-writer", Durable: ConsumerWriterDecided, Stream: StreamControl, Event: (events.PlanDecided{}).EventName(), MaxDeliver: 20, Concurrency: 1},
		{Service: "notifier", Durable: ConsumerNotifyCompleted, Stream: StreamControl, Event: (events.SyncCompleted{}).EventName(), MaxDeliver: 20, Concurrency: 1},
		{Service: "notifier", Durable: ConsumerNotifyRejected, Stream: StreamControl, Event: (events.SyncRejected{}).EventName(), MaxDeliver: 20, Concurrency: 1},
		{Service: "notifier", Durable: ConsumerNotifyFailed, Stream: StreamControl, Event: (events.DirectoryFailed{}).EventName(), MaxDeliver: 20, Concurrency: 1},
		// A receiver that is down for hours gets every alert afterwards: no
		// bound on deliveries; the handler backs off up to five minutes.
		{Service: "notifier", Durable: ConsumerNotifyDeliver, Stream: StreamNotify, Event: (events.NotificationRequested{}).EventName(), MaxDeliver: -1, Concurrency: 4},
	}
}

// MaxRequeueAttempts is the most attempts a job may ask for.
const MaxRequeueAttempts = 50

// ConsumerByName returns the spec of a durable consumer.
func ConsumerByName(name string) (ConsumerSpec, bool) {
	for _, c := range Consumers() {
		if c.Durable == name {
			return c, true
		}
	}
	return ConsumerSpec{}, false
}

// ConsumerFor returns the consumer spec for a wire name's handler.
func ConsumerFor(event string) (ConsumerSpec, bool) {
	for _, c := range Consumers() {
		if c.Event == event {
			return c, true
		}
	}
	return ConsumerSpec{}, false
}

// Backoff is the consumers' BackOff: one step, the ack wait, after which a
// message whose handler died is redelivered.
//
// It is flat on purpose. JetStream adds the delay of a NakWithDelay to the
// BackOff step of that delivery minus the ack wait, so with a growing
// BackOff the delays that handlers ask for (a job's requeue back-off,
// "wait a second for the remaining pages") would grow out of control. The
// growing back-off of failing handlers is computed by the subscriber
// instead (RetryDelay), and asked for exactly.
func (o TopologyOptions) Backoff() []time.Duration {
	o = o.withDefaults()
	return []time.Duration{o.AckWait}
}

// RetryDelay is the delay before redelivering a message whose handler
// failed without asking for one: a tenth of the ack wait, doubling with
// each attempt, at most five ack waits.
func (o TopologyOptions) RetryDelay(attempt int) time.Duration {
	o = o.withDefaults()
	d := max(o.AckWait/10, 100*time.Millisecond)
	for i := 1; i < attempt && d < 5*o.AckWait; i++ {
		d *= 2
	}
	return min(d, 5*o.AckWait)
}

func (o TopologyOptions) streams() []jetstream.StreamConfig {
	o = o.withDefaults()
	control := []string{
		events.SubjectOf((events.SyncRequested{}).EventName()),
		events.SubjectOf((events.SyncApproved{}).EventName()),
		events.SubjectOf((events.SyncRejected{}).EventName()),
		events.SubjectOf((events.SyncCompleted{}).EventName()),
		events.SubjectOf((events.DirectoryRequested{}).EventName()),
		events.SubjectOf((events.DirectoryCompleted{}).EventName()),
		events.SubjectOf((events.DirectoryFailed{}).EventName()),
		events.SubjectOf((events.ChangesCompleted{}).EventName()),
		events.SubjectOf((events.PlanDecided{}).EventName()),
		events.SubjectOf((events.PlanApplied{}).EventName()),
	}
	return []jetstream.StreamConfig{
		{
			Name: StreamControl, Description: "adsync run events (job history)",
			Subjects: control, Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
			MaxAge: o.History, Duplicates: o.Duplicates, Replicas: o.Replicas,
			Discard: jetstream.DiscardOld,
		},
		{
			Name: StreamPages, Description: "adsync directory pages (bulk; removed once diff acknowledged them)",
			Subjects:  []string{events.SubjectOf((events.DirectoryPage{}).EventName())},
			Retention: jetstream.InterestPolicy, Storage: jetstream.FileStorage,
			MaxAge: o.DataRetention, Duplicates: o.Duplicates, Replicas: o.Replicas,
			MaxMsgSize: 8 << 20,
		},
		{
			Name: StreamChanges, Description: "adsync account changes (removed once account-writer acknowledged them)",
			Subjects:  []string{events.SubjectOf((events.AccountChanges{}).EventName())},
			Retention: jetstream.InterestPolicy, Storage: jetstream.FileStorage,
			MaxAge: o.DataRetention, Duplicates: o.Duplicates, Replicas: o.Replicas,
			MaxMsgSize: 8 << 20,
		},
		{
			Name: StreamAccounts, Description: "adsync account change feed: every change to an account, in commit order",
			Subjects:  []string{events.FeedSubject("*")},
			Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
			MaxAge: o.FeedMaxAge, Duplicates: min(o.Duplicates, o.FeedMaxAge), Replicas: o.Replicas,
			Discard: jetstream.DiscardOld,
		},
		{
			Name: StreamAudit, Description: "adsync audit log: every change made through the API, the console or the command line",
			Subjects:  []string{events.SubjectOf((events.AuditRecorded{}).EventName())},
			Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
			MaxAge: o.AuditMaxAge, Duplicates: o.Duplicates, Replicas: o.Replicas,
			Discard: jetstream.DiscardOld,
		},
		{
			Name: StreamNotify, Description: "adsync alerts to deliver, one message per alert and channel",
			Subjects: []string{events.SubjectOf((events.NotificationRequested{}).EventName()),
				events.SubjectOf((events.NotificationFailed{}).EventName())},
			Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
			MaxAge: o.History, Duplicates: o.Duplicates, Replicas: o.Replicas,
			Discard: jetstream.DiscardOld,
		},
		{
			Name: StreamDeadLetter, Description: "adsync messages that could not be processed, with the reason",
			Subjects:  []string{DeadLetterSubjectPrefix + ">"},
			Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
			MaxAge: o.History, Replicas: o.Replicas,
		},
	}
}

func (o TopologyOptions) buckets() []jetstream.KeyValueConfig {
	o = o.withDefaults()
	return []jetstream.KeyValueConfig{
		{Bucket: BucketJobs, Description: "AD Sync Jobs", History: 5, Replicas: o.Replicas, Storage: jetstream.FileStorage},
		{Bucket: BucketSettings, Description: "installation settings: environment id, single sign-on", History: 5, Replicas: o.Replicas, Storage: jetstream.FileStorage},
		{Bucket: BucketLeases, Description: "runs in progress, one per job", History: 1, Replicas: o.Replicas, Storage: jetstream.FileStorage},
		{Bucket: BucketServers, Description: "live adsync processes (heartbeats)", History: 1, TTL: o.ServerTTL, Replicas: o.Replicas, Storage: jetstream.FileStorage},
		{Bucket: BucketTicks, Description: "last scheduled slot started per job", History: 1, Replicas: o.Replicas, Storage: jetstream.FileStorage},
		{Bucket: BucketMarks, Description: "where each domain's next delta read starts", History: 5, Replicas: o.Replicas, Storage: jetstream.FileStorage},
		{Bucket: BucketAlerts, Description: "alerts fired and not yet resolved (the notifier's)", History: 1, Replicas: o.Replicas, Storage: jetstream.FileStorage},
		{Bucket: BucketAdmins, Description: "console local administrators (bcrypt hashes)", History: 1, Replicas: o.Replicas, Storage: jetstream.FileStorage},
		{Bucket: BucketSessions, Description: "console sign-in sessions (expire when idle)", History: 1, TTL: o.SessionIdle, Replicas: o.Replicas, Storage: jetstream.FileStorage},
		{Bucket: BucketHolds, Description: "plans held by the deletion guard, per domain", History: 5, Replicas: o.Replicas, Storage: jetstream.FileStorage},
	}
}

// ConsumerConfig is the JetStream configuration of a consumer spec.
func (o TopologyOptions) ConsumerConfig(c ConsumerSpec) jetstream.ConsumerConfig {
	o = o.withDefaults()
	backoff := o.Backoff()
	maxAck := c.MaxAckPending
	if maxAck == 0 {
		maxAck = 64
	}
	return jetstream.ConsumerConfig{
		Durable:       c.Durable,
		Description:   "adsync handler for " + c.Event,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       backoff[0],
		BackOff:       backoff,
		MaxDeliver:    c.MaxDeliver,
		FilterSubject: events.SubjectOf(c.Event),
		MaxAckPending: maxAck,
		Replicas:      o.Replicas,
	}
}

// Provision creates or updates every stream, bucket and durable consumer.
// Every service calls it at start; it is idempotent.
//
// On a cluster an answer to a JetStream request is sometimes lost (a
// leader election, say): each step is tried a few times.
func Provision(ctx context.Context, js jetstream.JetStream, o TopologyOptions) error {
	for _, sc := range o.streams() {
		if err := retry(ctx, func() error { _, err := js.CreateOrUpdateStream(ctx, sc); return err }); err != nil {
			return fmt.Errorf("provision stream %s: %w", sc.Name, err)
		}
	}
	for _, kc := range o.buckets() {
		if err := retry(ctx, func() error { _, err := js.CreateOrUpdateKeyValue(ctx, kc); return err }); err != nil {
			return fmt.Errorf("provision bucket %s: %w", kc.Bucket, err)
		}
	}
	for _, c := range Consumers() {
		if err := retry(ctx, func() error { _, err := js.CreateOrUpdateConsumer(ctx, c.Stream, o.ConsumerConfig(c)); return err }); err != nil {
			return fmt.Errorf("provision consumer %s on %s: %w", c.Durable, c.Stream, err)
		}
	}
	return nil
}

// retry runs fn up to five times, a growing pause apart, while ctx lasts.
func retry(ctx context.Context, fn func() error) error {
	var err error
	pause := 250 * time.Millisecond
	for i := 0; i < 5; i++ {
		if err = fn(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
		pause *= 2
	}
	return err
}

// ErrNotProvisioned is returned when the bus lacks adsync's streams.
var ErrNotProvisioned = errors.New("the NATS server has no adsync streams: provision them (adsync provision as the NATS administrator, or start adsync run / adsync serve with nats.provision: true)")
