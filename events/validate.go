package events

import (
	"errors"
	"fmt"
)

// The bulk events (directory pages, account changes) are checked on
// receipt by Validate methods generated from their JSON Schemas
// (validate_gen.go, events/internal/validategen): the schema validator cost
// a sixth of diff's and a quarter of the writer's CPU on them.

//go:generate go run ./internal/validategen

// checks collects what a generated Validate finds wrong with an event.
type checks []error

func (c *checks) failf(format string, args ...any) {
	*c = append(*c, fmt.Errorf(format, args...))
}

func (c checks) err() error { return errors.Join(c...) }
