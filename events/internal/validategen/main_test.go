package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const schemaDir = "../../../schemas/events"

// TestGeneratedFileIsUpToDate: events/validate_gen.go is what the schemas
// generate today (else: go generate ./events).
func TestGeneratedFileIsUpToDate(t *testing.T) {
	want, err := generate(schemaDir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../validate_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatal("events/validate_gen.go is stale: run go generate ./events")
	}
}

// TestWhatItCannotCheckStopsIt: a schema the generator cannot follow is
// an error naming the place, never a check left out.
func TestWhatItCannotCheckStopsIt(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"unknown keyword", `"seq": {`, `"seq": {"multipleOf": 2, `, `keyword "multipleOf"`},
		{"property without a field", `"kept": {`, `"kepts": {"type": "string"}, "kept": {`, `property "kepts" has no field`},
		{"unknown keyword beside a type", `"seq": {`, `"seq": {"type": "integer", "x-": 1, `, `"x-"`},
		{"type that does not fit", `"type": "integer",
      "minimum": 1`, `"type": "string",
      "minimum": 1`, `type "string" does not fit Go type int`},
		{"broken reference", `common.json#/$defs/attempt`, `common.json#/$defs/attempts`, `no attempts`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			entries, err := os.ReadDir(schemaDir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				raw, err := os.ReadFile(filepath.Join(schemaDir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if e.Name() == "directory.page.v1.json" {
					if !strings.Contains(string(raw), c.old) {
						t.Fatalf("the schema has no %q to edit", c.old)
					}
					raw = []byte(strings.Replace(string(raw), c.old, c.new, 1))
				}
				if err := os.WriteFile(filepath.Join(dir, e.Name()), raw, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err = generate(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %s", err, c.want)
			}
		})
	}
}
