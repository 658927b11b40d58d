// Package eventschema checks JSON payloads against adsync's event schemas
// with a full JSON Schema validator (santhosh-tekuri/jsonschema). Tests use
// it to hold the generated Validate methods, and what goes over the bus, to
// the schemas; adsync itself does not link it (its initialisation alone
// took 14 ms of every command's start).
package eventschema

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/adsync/adsync/schemas"
)

const baseURL = "https://adsync.example/schemas/events/"

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

func compileAll() (map[string]*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		entries, err := fs.ReadDir(schemas.EventFiles(), ".")
		if err != nil {
			compileErr = err
			return
		}
		for _, e := range entries {
			raw, err := fs.ReadFile(schemas.EventFiles(), e.Name())
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
		for _, n := range schemas.EventSchemaNames() {
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
