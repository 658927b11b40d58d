// Package schemas holds the JSON Schemas of adsync's events and the SQL
// migrations of its SQLite stores, embedded into the binary. The events'
// Validate methods are generated from the schemas (events/validate_gen.go);
// eventschema checks payloads with a full JSON Schema validator, in tests.
package schemas

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

//go:embed events/*.json
var eventFS embed.FS

//go:embed migrations
var migrationFS embed.FS

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

// EventFiles returns the event schemas (NAME.json, common.json).
func EventFiles() fs.FS {
	sub, _ := fs.Sub(eventFS, "events")
	return sub
}
