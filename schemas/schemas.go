// Package schemas holds the JSON Schemas of adsync's events and the SQL
// migrations of its SQLite stores, embedded into the binary.
package schemas

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed events/*.json
var eventFS embed.FS

//go:embed migrations
var migrationFS embed.FS

const baseURL = "https://adsync.example/schemas/events/"

// Migrations returns the SQL migrations of one store ("accounts", "diff"),
// as files named NNNN_name.sql.
func Migrations(store string) (fs.FS, error) {
	return fs.Sub(migrationFS, path.Join("migrations", store))
}

// EventSchemaNames lists the wire names that have a schema.
func EventSchemaNames() []string {
	entries, _ := eventFS.ReadDir("events")
	var names []string
	for _, e := range entries {
		n := strings.TrimSuffix(e.Name(), ".json")
		if n != "common" {
			names = append(names, n)
		}
	}
	return names
}

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

func compileAll() (map[string]*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		entries, err := eventFS.ReadDir("events")
		if err != nil {
			compileErr = err
			return
		}
		for _, e := range entries {
			raw, err := eventFS.ReadFile("events/" + e.Name())
			if err != nil {
				compileErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				compileErr = fmt.Errorf("schema %s: %w", e.Name(), err)
				return
			}
			if err := c.AddResource(baseURL+e.Name(), doc); err != nil {
				compileErr = fmt.Errorf("schema %s: %w", e.Name(), err)
				return
			}
		}
		compiled = map[string]*jsonschema.Schema{}
		for _, n := range EventSchemaNames() {
			s, err := c.Compile(baseURL + n + ".json")
			if err != nil {
				compileErr = fmt.Errorf("compile schema %s: %w", n, err)
				return
			}
			compiled[n] = s
		}
	})
	return compiled, compileErr
}

// ValidateEvent checks a JSON payload against the schema of the named event.
// The error says what is wrong in words an administrator can act on.
func ValidateEvent(name string, payload []byte) error {
	all, err := compileAll()
	if err != nil {
		return err
	}
	s, ok := all[name]
	if !ok {
		return fmt.Errorf("no schema for event %q", name)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := s.Validate(doc); err != nil {
		return fmt.Errorf("does not match schema %s: %s", name, oneLine(err))
	}
	return nil
}

var printer = message.NewPrinter(language.English)

func oneLine(err error) string {
	if ve, ok := err.(*jsonschema.ValidationError); ok {
		var parts []string
		for _, leaf := range leaves(ve) {
			loc := "/" + strings.Join(leaf.InstanceLocation, "/")
			parts = append(parts, fmt.Sprintf("at %s: %s", loc, leaf.ErrorKind.LocalizedString(printer)))
			if len(parts) == 5 {
				break
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, "; ")
		}
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

func leaves(ve *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(ve.Causes) == 0 {
		return []*jsonschema.ValidationError{ve}
	}
	var out []*jsonschema.ValidationError
	for _, c := range ve.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}
