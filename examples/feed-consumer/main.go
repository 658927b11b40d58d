// Command feed-consumer shows how a platform keeps its own copy of the
// accounts adsync keeps: read a snapshot through adsync's NATS endpoint,
// then follow the account change feed from the change the snapshot is
// current to, so that nothing is missed and nothing is lost in between.
//
// It uses nats.go alone (no adsync package): the wire format is the
// contract. Run it with the NATS user deploy/nats ships for the platform
// (adsync-feed), or any user allowed the same subjects:
//
//	go run ./examples/feed-consumer -url nats://127.0.0.1:4222 -user adsync-feed -password-file feed.pass
//
// A real consumer writes each account to its own database, and remembers
// the last change it applied to resume from it after a restart.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// Account is what adsync keeps of one local account (fields trimmed to
// what this example shows; the feed carries them all).
type Account struct {
	Domain         string   `json:"domain"`
	ExternalID     string   `json:"external_id"`
	Username       string   `json:"username"`
	LocalName      string   `json:"local_name"`
	Email          string   `json:"email"`
	Groups         []string `json:"groups"`
	Active         bool     `json:"active"`
	InactiveReason string   `json:"inactive_reason,omitempty"`
}

// Change is an account.changed.v1 event: one change to one account, with
// the whole account after it.
type Change struct {
	Seq     int64   `json:"seq"`
	Domain  string  `json:"domain"`
	Change  string  `json:"change"`
	Reason  string  `json:"reason,omitempty"`
	Account Account `json:"account"`
}

// listPage is adsync's answer to adsync.api.accounts.list.
type listPage struct {
	Accounts []Account `json:"accounts"`
	More     bool      `json:"more"`
	FeedSeq  int64     `json:"feed_seq"`
}

const (
	listSubject  = "adsync.api.accounts.list"
	feedStream   = "ADSYNC_ACCOUNTS"
	feedSubjects = "adsync.account.changed.v1.*"
	seqHeader    = "Adsync-Feed-Seq"
)

func main() {
	url := flag.String("url", nats.DefaultURL, "NATS server")
	user := flag.String("user", "", "NATS user (adsync-feed)")
	passwordFile := flag.String("password-file", "", "file holding the user's password")
	creds := flag.String("creds", "", "NATS credentials file (instead of user and password)")
	tokenFile := flag.String("token-file", "", "file holding a NATS token (e.g. an embedded server's data_dir/nats.token)")
	until := flag.Int64("until", 0, "stop once the change with this number is applied (0: follow until Ctrl-C)")
	dump := flag.String("dump", "", "at the end, write the accounts as JSON to this file")
	flag.Parse()

	opts := []nats.Option{nats.Name("adsync feed consumer")}
	switch {
	case *creds != "":
		opts = append(opts, nats.UserCredentials(*creds))
	case *user != "":
		raw, err := os.ReadFile(*passwordFile)
		if err != nil {
			log.Fatalf("password: %v", err)
		}
		opts = append(opts, nats.UserInfo(*user, strings.TrimSpace(string(raw))))
	case *tokenFile != "":
		raw, err := os.ReadFile(*tokenFile)
		if err != nil {
			log.Fatalf("token: %v", err)
		}
		opts = append(opts, nats.Token(strings.TrimSpace(string(raw))))
	}
	nc, err := nats.Connect(*url, opts...)
	if err != nil {
		log.Fatalf("connect: %v", err)
	}
	defer nc.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	accounts, from, err := snapshot(ctx, nc)
	if err != nil {
		log.Fatalf("snapshot: %v", err)
	}
	log.Printf("snapshot: %d accounts, current to change %d", len(accounts), from)
	if err := follow(ctx, nc, from+1, *until, accounts); err != nil {
		log.Fatalf("follow: %v", err)
	}
	if *dump != "" {
		raw, _ := json.Marshal(accounts)
		if err := os.WriteFile(*dump, raw, 0o600); err != nil {
			log.Fatal(err)
		}
	}
}

// snapshot reads every account, a page at a time. The first page says up
// to which change it is current: later pages may hold later changes too,
// which the feed then brings again (with the whole account: applying one
// twice is harmless).
func snapshot(ctx context.Context, nc *nats.Conn) (map[string]Account, int64, error) {
	accounts := map[string]Account{}
	req := map[string]any{"limit": 1000}
	seq := int64(-1)
	for {
		body, _ := json.Marshal(req)
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		msg, err := nc.RequestWithContext(rctx, listSubject, body)
		cancel()
		if err != nil {
			return nil, 0, err
		}
		if e := msg.Header.Get("Nats-Service-Error"); e != "" {
			return nil, 0, errors.New(e)
		}
		var page listPage
		if err := json.Unmarshal(msg.Data, &page); err != nil {
			return nil, 0, err
		}
		if seq < 0 {
			seq = page.FeedSeq
		}
		for _, a := range page.Accounts {
			accounts[a.Domain+"/"+a.ExternalID] = a
		}
		if !page.More || len(page.Accounts) == 0 {
			return accounts, seq, nil
		}
		last := page.Accounts[len(page.Accounts)-1]
		req["after_domain"], req["after_username"], req["after_id"] = last.Domain, last.Username, last.ExternalID
	}
}

// follow applies the feed's changes from change number from on. adsync
// publishes every change once, in order and without gaps, so a change's
// place in the stream is its number plus a constant, read off the last
// message.
func follow(ctx context.Context, nc *nats.Conn, from, until int64, accounts map[string]Account) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	stream, err := js.Stream(ctx, feedStream)
	if err != nil {
		return err
	}
	state := stream.CachedInfo().State
	start := state.LastSeq + 1
	if state.Msgs > 0 {
		last, err := stream.GetMsg(ctx, state.LastSeq)
		if err != nil {
			return err
		}
		lastSeq, err := strconv.ParseInt(last.Header.Get(seqHeader), 10, 64)
		if err != nil {
			return fmt.Errorf("the feed's last message has no %s", seqHeader)
		}
		if from <= lastSeq {
			start = state.LastSeq - uint64(lastSeq-from)
			if start < state.FirstSeq {
				return fmt.Errorf("the feed no longer holds change %d: take a new snapshot", from)
			}
		}
	}
	cons, err := js.OrderedConsumer(ctx, feedStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{feedSubjects}, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start,
	})
	if err != nil {
		return err
	}
	msgs, err := cons.Messages()
	if err != nil {
		return err
	}
	defer msgs.Stop()
	go func() { <-ctx.Done(); msgs.Stop() }()
	if until > 0 && until < from {
		return nil
	}
	for {
		m, err := msgs.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var c Change
		if err := json.Unmarshal(m.Data(), &c); err != nil {
			return fmt.Errorf("unreadable change: %w", err)
		}
		accounts[c.Domain+"/"+c.Account.ExternalID] = c.Account
		fmt.Printf("%d %s %s %s\n", c.Seq, c.Change, c.Account.LocalName, c.Reason)
		if until > 0 && c.Seq >= until {
			return nil
		}
	}
}
