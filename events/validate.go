package events

import (
	"errors"
	"fmt"
	"time"
)

// Every event is checked on receipt by a Validate method generated from
// its JSON Schema (validate_gen.go, events/internal/validategen): a
// schema validator cost a sixth of diff's and a quarter of the writer's
// CPU on the bulk events, and its initialisation alone 14 ms of every
// command's start.

//go:generate go run ./internal/validategen

// checks collects what a generated Validate finds wrong with an event.
type checks []error

func (c *checks) failf(format string, args ...any) {
	*c = append(*c, fmt.Errorf(format, args...))
}

func (c checks) err() error { return errors.Join(c...) }

// isDateTime reports whether s is an RFC 3339 date-time (JSON Schema's
// format "date-time").
func isDateTime(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}
