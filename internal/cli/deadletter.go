package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/internal/bus"
)

// DeadLetter is a message that could not be processed.
type DeadLetter struct {
	Seq        uint64            `json:"seq"`
	Subject    string            `json:"subject"`
	Consumer   string            `json:"consumer"`
	Reason     string            `json:"reason"`
	Deliveries string            `json:"deliveries"`
	At         string            `json:"at"`
	MessageID  string            `json:"message_id,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	Payload    json.RawMessage   `json:"payload,omitempty"`
	Raw        string            `json:"raw,omitempty"` // a payload that is not JSON
}

func deadLetterOf(m *jetstream.RawStreamMsg, full bool) DeadLetter {
	d := DeadLetter{Seq: m.Sequence, Subject: m.Header.Get(bus.HeaderDeadSubject), Consumer: m.Header.Get(bus.HeaderDeadConsumer),
		Reason: m.Header.Get(bus.HeaderDeadReason), Deliveries: m.Header.Get(bus.HeaderDeadAttempts), At: m.Header.Get(bus.HeaderDeadAt),
		MessageID: m.Header.Get("Adsync-Dead-Msg-Id")}
	if full {
		d.Headers = map[string]string{}
		for k := range m.Header {
			d.Headers[k] = m.Header.Get(k)
		}
		if json.Valid(m.Data) {
			d.Payload = m.Data
		} else {
			d.Raw = string(m.Data)
		}
	}
	return d
}

func (c *cli) deadletterCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "deadletter", Short: "Messages that could not be processed: list, show, replay, purge"}
	var asJSON, all bool
	list := &cobra.Command{
		Use: "list", Short: "List dead letters with their reason, subject and consumer", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withDeadLetters(cmd, func(ctx context.Context, s *session, st jetstream.Stream) error {
				var out []DeadLetter
				if err := eachDeadLetter(ctx, st, func(m *jetstream.RawStreamMsg) { out = append(out, deadLetterOf(m, false)) }); err != nil {
					return err
				}
				if asJSON {
					if out == nil {
						out = []DeadLetter{}
					}
					return json.NewEncoder(c.env.Stdout).Encode(out)
				}
				if len(out) == 0 {
					c.out("no dead letters\n")
					return nil
				}
				tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SEQ\tAT\tSUBJECT\tCONSUMER\tDELIVERIES\tREASON")
				for _, d := range out {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", d.Seq, d.At, d.Subject, d.Consumer, d.Deliveries, d.Reason)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	show := &cobra.Command{
		Use: "show SEQ", Short: "Show one dead letter whole (headers and payload)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seq, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("SEQ %q: a number from `adsync deadletter list`", args[0])
			}
			return c.withDeadLetters(cmd, func(ctx context.Context, s *session, st jetstream.Stream) error {
				m, err := st.GetMsg(ctx, seq)
				if err != nil {
					return fmt.Errorf("dead letter %d: %w", seq, err)
				}
				enc := json.NewEncoder(c.env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(deadLetterOf(m, true))
			})
		},
	}
	replay := &cobra.Command{
		Use: "replay (SEQ... | --all)", Short: "Publish dead letters again on their subject (handlers apply each once), then remove them",
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDeadLetters(cmd, func(ctx context.Context, s *session, st jetstream.Stream) error {
				return c.eachSelected(ctx, st, args, all, func(m *jetstream.RawStreamMsg) error {
					h := nats.Header{}
					for k, v := range m.Header {
						if len(k) < 12 || k[:12] != "Adsync-Dead-" {
							h[k] = v
						}
					}
					msg := &nats.Msg{Subject: m.Header.Get(bus.HeaderDeadSubject), Data: m.Data, Header: h}
					if _, err := s.bus.JS.PublishMsg(ctx, msg, jetstream.WithMsgID(fmt.Sprintf("replay:%d:%s", m.Sequence, m.Header.Get("Adsync-Dead-At")))); err != nil {
						return fmt.Errorf("replay %d on %s: %w", m.Sequence, msg.Subject, err)
					}
					c.out("replayed %d on %s\n", m.Sequence, msg.Subject)
					return st.DeleteMsg(ctx, m.Sequence)
				})
			})
		},
	}
	replay.Flags().BoolVar(&all, "all", false, "every dead letter")
	purge := &cobra.Command{
		Use: "purge (SEQ... | --all)", Short: "Remove dead letters for good",
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDeadLetters(cmd, func(ctx context.Context, s *session, st jetstream.Stream) error {
				if all && len(args) == 0 {
					if err := st.Purge(ctx); err != nil {
						return err
					}
					c.out("all dead letters purged\n")
					return nil
				}
				return c.eachSelected(ctx, st, args, false, func(m *jetstream.RawStreamMsg) error {
					c.out("purged %d\n", m.Sequence)
					return st.DeleteMsg(ctx, m.Sequence)
				})
			})
		},
	}
	purge.Flags().BoolVar(&all, "all", false, "every dead letter")
	cmd.AddCommand(list, show, replay, purge)
	return cmd
}

func (c *cli) withDeadLetters(cmd *cobra.Command, fn func(context.Context, *session, jetstream.Stream) error) error {
	ctx := cmd.Context()
	s, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	st, err := s.bus.JS.Stream(ctx, bus.StreamDeadLetter)
	if err != nil {
		return err
	}
	return fn(ctx, s, st)
}

// eachDeadLetter calls fn with every dead letter, oldest first.
func eachDeadLetter(ctx context.Context, st jetstream.Stream, fn func(*jetstream.RawStreamMsg)) error {
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	if info.State.Msgs == 0 {
		return nil
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue // deleted
		}
		fn(m)
	}
	return nil
}

func (c *cli) eachSelected(ctx context.Context, st jetstream.Stream, args []string, all bool, fn func(*jetstream.RawStreamMsg) error) error {
	if all {
		var msgs []*jetstream.RawStreamMsg
		if err := eachDeadLetter(ctx, st, func(m *jetstream.RawStreamMsg) { msgs = append(msgs, m) }); err != nil {
			return err
		}
		for _, m := range msgs {
			if err := fn(m); err != nil {
				return err
			}
		}
		return nil
	}
	if len(args) == 0 {
		return fmt.Errorf("name the dead letters (SEQ from `adsync deadletter list`) or pass --all")
	}
	for _, a := range args {
		seq, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return fmt.Errorf("SEQ %q: a number from `adsync deadletter list`", a)
		}
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			return fmt.Errorf("dead letter %d: %w", seq, err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}
