// Command validategen writes events/validate_gen.go: the Validate method of
// each bulk event, generated from its JSON Schema in schemas/events.
//
// The bulk events (directory pages, account changes) carry every entry of
// every read; validating them with the schema validator on receipt cost a
// sixth of diff's CPU and a quarter of the writer's. The generated methods
// check the decoded struct instead, with the schema's rules and nothing
// else: the schema is the one source, and `go generate ./events` follows it
// (a test fails when the file is stale).
//
// It knows the keywords these schemas use, and stops at any other one
// rather than ignore it. What a decoded value cannot tell is left to the
// decoder: a required key whose value may be empty ("dn") cannot be told
// from an absent one, types and date-time formats are the decoder's.
package main

import (
	"flag"
	"fmt"
	"os"
	"reflect"

	"github.com/adsync/adsync/events"
)

// targets are the events that get a generated Validate.
var targets = []struct {
	name string
	typ  reflect.Type
}{
	{"directory.page.v1", reflect.TypeFor[events.DirectoryPage]()},
	{"account.changes.v1", reflect.TypeFor[events.AccountChanges]()},
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
