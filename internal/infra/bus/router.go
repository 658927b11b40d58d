package bus

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/adsync/adsync/events"
)

// Router runs a service's typed event handlers: a watermill router with a
// CQRS event processor whose subscribers are adsync's durable consumers.
type Router struct {
	bus       *Bus
	service   string
	router    *message.Router
	processor *cqrs.EventProcessor
}

// NewRouter returns a router for one service.
func (b *Bus) NewRouter(service string) (*Router, error) {
	log := b.Log
	wlog := quietLogger{watermill.NewSlogLoggerWithLevelMapping(log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})}
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, wlog)
	if err != nil {
		return nil, err
	}
	r.AddMiddleware(middleware.Recoverer, classify(log))
	ep, err := cqrs.NewEventProcessorWithConfig(r, cqrs.EventProcessorConfig{
		GenerateSubscribeTopic: func(p cqrs.EventProcessorGenerateSubscribeTopicParams) (string, error) {
			return events.SubjectOf(p.EventName), nil
		},
		SubscriberConstructor: func(p cqrs.EventProcessorSubscriberConstructorParams) (message.Subscriber, error) {
			spec, ok := ConsumerByName(p.HandlerName)
			if !ok {
				return nil, fmt.Errorf("no consumer named %q", p.HandlerName)
			}
			if spec.Event != p.EventName {
				return nil, fmt.Errorf("consumer %s consumes %s, not %s", spec.Durable, spec.Event, p.EventName)
			}
			return NewSubscriber(b.JS, spec, b.Topology, log.With("service", spec.Service)), nil
		},
		OnHandle: func(p cqrs.EventProcessorOnHandleParams) error {
			l := log
			if spec, ok := ConsumerByName(p.Handler.HandlerName()); ok {
				l = log.With("service", spec.Service)
			}
			lg := loggersFor(l, p.Event, p.Message)
			start := time.Now()
			err := p.Handler.Handle(context.WithValue(p.Message.Context(), loggerKey{}, lg), p.Event)
			// One line per handled message (debug): every service's part
			// in a run shows up in the log with run_id, domain and service.
			if err != nil {
				lg.event.Debug("message handled", "seconds", time.Since(start).Seconds(), "err", err)
			} else {
				lg.event.Debug("message handled", "seconds", time.Since(start).Seconds())
			}
			return err
		},
		Marshaler: b.marshaler,
		Logger:    wlog,
	})
	if err != nil {
		return nil, err
	}
	return &Router{bus: b, service: service, router: r, processor: ep}, nil
}

// Handle registers a typed handler on a durable consumer.
func Handle[T any](r *Router, consumer string, fn func(ctx context.Context, ev *T) error) error {
	return r.processor.AddHandlers(cqrs.NewEventHandler(consumer, fn))
}

// Run runs the handlers until ctx ends, then waits for in-flight ones.
func (r *Router) Run(ctx context.Context) error {
	return r.router.Run(ctx)
}

// Running is closed when every handler is subscribed.
func (r *Router) Running() chan struct{} { return r.router.Running() }

// Close stops the router.
func (r *Router) Close() error { return r.router.Close() }

// classify records the disposition of a failed message in its metadata for
// the subscriber, and logs the failure.
func classify(log *slog.Logger) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			if err == nil {
				return out, nil
			}
			disp, after := Classify(err)
			msg.Metadata.Set(metaError, err.Error())
			switch disp {
			case DeadLetter:
				msg.Metadata.Set(metaDisposition, "dead-letter")
			case Retry:
				if after > 0 {
					msg.Metadata.Set(metaRetryAfter, after.String())
				}
			}
			return out, err
		}
	}
}

// loggers are a handler's loggers: run carries the service, subject,
// run_id and job; event adds the event's domain, if it has one.
type loggers struct{ run, event *slog.Logger }

func loggersFor(log *slog.Logger, ev any, msg *message.Message) loggers {
	attrs := []any{"subject", events.SubjectOf(msg.Metadata.Get(metaName))}
	if rr, ok := ev.(events.RunRef); ok {
		run := rr.RunInfo()
		attrs = append(attrs, "run_id", run.RunID, "job", run.Job)
	}
	if d := DeliveryFrom(msg.Context()); d.Attempt > 1 {
		attrs = append(attrs, "delivery", d.Attempt)
	}
	run := log.With(attrs...)
	event := run
	if dd, ok := ev.(interface{ DomainName() string }); ok {
		event = run.With("domain", dd.DomainName())
	}
	return loggers{run: run, event: event}
}

type loggerKey struct{}

// WithLogger returns ctx carrying a logger with the event's keys.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, loggers{run: l, event: l})
}

// Logger returns the handler's logger (service, subject, run_id, and the
// event's domain when it has one).
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(loggers); ok {
		return l.event
	}
	return slog.Default()
}

// RunLogger returns the handler's logger without the event's domain: for
// lines about the whole run.
func RunLogger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(loggers); ok {
		return l.run
	}
	return slog.Default()
}

// DomainLogger returns the handler's logger for a line about one domain
// (the key is always "domain", whichever domain the event was about).
func DomainLogger(ctx context.Context, domain string) *slog.Logger {
	return RunLogger(ctx).With("domain", domain)
}

// quietLogger keeps watermill from logging every handler error: the
// subscriber logs each failure once, with what happens to the message.
type quietLogger struct{ watermill.LoggerAdapter }

func (q quietLogger) Error(msg string, err error, fields watermill.LogFields) {
	if msg == "Handler returned error" {
		q.LoggerAdapter.Debug(msg, fields.Add(watermill.LogFields{"err": err}))
		return
	}
	q.LoggerAdapter.Error(msg, err, fields)
}

func (q quietLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return quietLogger{q.LoggerAdapter.With(fields)}
}
