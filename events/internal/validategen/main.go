// Command validategen writes events/validate_gen.go: the Validate method of
// every event, generated from its JSON Schema in schemas/events.
//
// The bus adapter checks each received event with it. A schema validator
// on the decoded JSON cost a sixth of diff's CPU and a quarter of the
// writer's on the bulk events (directory pages, account changes), and its
// initialisation 14 ms of every command's start. The generated methods
// check the decoded struct instead, with the schema's rules and nothing
// else: the schema is the one source, and `go generate ./events` follows
// it (a test fails when the file is stale; another holds every event's
// verdicts to a full JSON Schema validator's).
//
// It knows the keywords these schemas use, and stops at any other one
// rather than ignore it. What a decoded value cannot tell is left to the
// decoder: a required key whose value may be empty ("dn") cannot be told
// from an absent one, types and date-time formats are the decoder's. A
// zero time.Time is taken for an absent one.
package main

import (
	"flag"
	"fmt"
	"os"
	"reflect"

	"github.com/adsync/adsync/events"
)

// targets are the events that get a generated Validate: every one.
func targets() []target {
	var out []target
	for _, e := range events.All() {
		out = append(out, target{name: e.EventName(), typ: reflect.TypeOf(e).Elem()})
	}
	return out
}

type target struct {
	name string
	typ  reflect.Type
}

func main() {
	schemaDir := flag.String("schemas", "../schemas/events", "directory of the event schemas")
	out := flag.String("o", "validate_gen.go", "file to write")
	flag.Parse()
	src, err := generate(*schemaDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "validategen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "validategen:", err)
		os.Exit(1)
	}
}
