package schemas_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/schemas/eventschema"
)

// Events are validated on receipt by Validate methods generated
// from their schemas (events/internal/validategen), not by the schema
// validator: both must give the same verdict.
func TestBulkEventValidateAgreesWithSchema(t *testing.T) {
	mutate := func(name string, base events.Event, edit func(map[string]any)) (string, []byte) {
		raw, _ := json.Marshal(base)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		edit(m)
		out, _ := json.Marshal(m)
		return name, out
	}
	var page, changes events.Event
	for _, e := range samples() {
		switch e.(type) {
		case *events.DirectoryPage:
			page = e
		case *events.AccountChanges:
			changes = e
		}
	}
	entry := func(m map[string]any) map[string]any { return m["entries"].([]any)[0].(map[string]any) }
	change := func(m map[string]any, i int) map[string]any { return m["changes"].([]any)[i].(map[string]any) }
	cases := []struct {
		event string
		name  string
		raw   []byte
	}{}
	add := func(event string, name string, raw []byte) {
		cases = append(cases, struct {
			event string
			name  string
			raw   []byte
		}{event, name, raw})
	}
	for _, c := range []struct {
		name string
		edit func(map[string]any)
	}{
		{"valid", func(map[string]any) {}},
		{"no run id", func(m map[string]any) { delete(m, "run_id") }},
		{"bad run id", func(m map[string]any) { m["run_id"] = "a b" }},
		{"bad trigger", func(m map[string]any) { m["trigger"] = "whenever" }},
		{"no job", func(m map[string]any) { delete(m, "job") }},
		{"bad domain", func(m map[string]any) { m["domain"] = "corp.example" }},
		{"attempt 0", func(m map[string]any) { m["attempt"] = 0 }},
		{"seq 0", func(m map[string]any) { m["seq"] = 0 }},
		{"no entries", func(m map[string]any) { delete(m, "entries") }},
		{"entry without id", func(m map[string]any) { delete(entry(m), "id") }},
		{"entry without username", func(m map[string]any) { entry(m)["username"] = "" }},
		{"bad disabled reason", func(m map[string]any) { entry(m)["disabled_reason"] = "tired" }},
		{"group without id", func(m map[string]any) {
			entry(m)["group_refs"] = []any{map[string]any{"id": "", "name": "x", "dn": "y"}}
		}},
		{"empty kept id", func(m map[string]any) { m["kept"] = []any{""} }},
		{"empty gone id", func(m map[string]any) { m["gone"] = []any{""} }},
		{"empty out_of_scope id", func(m map[string]any) { m["out_of_scope"] = []any{""} }},
		{"valid", func(m map[string]any) {
			m["held"] = []any{map[string]any{"domain": "lab", "run_id": "r1", "reasons": []any{"30% > 10%"}}}
		}},
		{"held domain bad", func(m map[string]any) {
			m["held"] = []any{map[string]any{"domain": "lab.example", "run_id": "r1", "reasons": []any{}}}
		}},
		{"held without run id", func(m map[string]any) { m["held"] = []any{map[string]any{"domain": "lab", "reasons": []any{}}} }},
		{"held without reasons", func(m map[string]any) { m["held"] = []any{map[string]any{"domain": "lab", "run_id": "r1"}} }},
		{"number as string", func(m map[string]any) { m["seq"] = "1" }},
		{"valid: run id of 200 characters", func(m map[string]any) { m["run_id"] = strings.Repeat("r", 200) }},
		{"run id of 201 characters", func(m map[string]any) { m["run_id"] = strings.Repeat("r", 201) }},
		{"valid: job of 100 two-byte characters", func(m map[string]any) { m["job"] = strings.Repeat("é", 100) }},
		{"job of 101 characters", func(m map[string]any) { m["job"] = strings.Repeat("é", 101) }},
		{"domain of 101 characters", func(m map[string]any) { m["domain"] = strings.Repeat("d", 101) }},
		{"no observed_at", func(m map[string]any) { delete(m, "observed_at") }},
		{"valid: empty pages and held reasons", func(m map[string]any) {
			m["entries"] = []any{}
			m["held"] = []any{map[string]any{"domain": "lab", "run_id": "r1", "reasons": []any{}}}
		}},
	} {
		n, raw := mutate(c.name, page, c.edit)
		add("directory.page.v1", n, raw)
	}
	for _, c := range []struct {
		name string
		edit func(map[string]any)
	}{
		{"valid", func(map[string]any) {}},
		{"bad batch", func(m map[string]any) { m["batch"] = "P1" }},
		{"no changes", func(m map[string]any) { delete(m, "changes") }},
		{"bad op", func(m map[string]any) { change(m, 0)["op"] = "delete" }},
		{"create without entry", func(m map[string]any) { delete(change(m, 0), "entry") }},
		{"no external id", func(m map[string]any) { change(m, 1)["external_id"] = "" }},
		{"entry without username", func(m map[string]any) { delete(change(m, 0)["entry"].(map[string]any), "username") }},
		{"bad domain", func(m map[string]any) { m["domain"] = "" }},
		{"update without entry", func(m map[string]any) { change(m, 0)["op"] = "update"; delete(change(m, 0), "entry") }},
		{"valid: deactivate with entry", func(m map[string]any) { change(m, 0)["op"] = "deactivate" }},
		{"entry with a bad disabled reason", func(m map[string]any) { change(m, 0)["entry"].(map[string]any)["disabled_reason"] = "bored" }},
		{"entry's group without id", func(m map[string]any) {
			change(m, 0)["entry"].(map[string]any)["group_refs"] = []any{map[string]any{"name": "x", "dn": "y"}}
		}},
		{"held bad run id", func(m map[string]any) {
			m["held"] = []any{map[string]any{"domain": "lab", "run_id": "a b", "reasons": []any{"x"}}}
		}},
	} {
		n, raw := mutate(c.name, changes, c.edit)
		add("account.changes.v1", n, raw)
	}
	for _, c := range cases {
		t.Run(c.event+"/"+c.name, func(t *testing.T) {
			schemaOK := eventschema.ValidateEvent(c.event, c.raw) == nil
			var v interface{ Validate() error }
			if c.event == "directory.page.v1" {
				v = &events.DirectoryPage{}
			} else {
				v = &events.AccountChanges{}
			}
			fastOK := json.Unmarshal(c.raw, v) == nil && v.Validate() == nil
			if schemaOK != fastOK {
				t.Fatalf("schema says valid=%v, Validate says valid=%v: %s", schemaOK, fastOK, c.raw)
			}
			if strings.HasPrefix(c.name, "valid") != schemaOK {
				t.Fatalf("case %q: schema verdict %v", c.name, schemaOK)
			}
		})
	}
}

// TestValidateAgreesWithSchemaOnEveryEvent: for every event, Validate
// accepts a decoded event exactly when the schema accepts it as encoded
// again (what a handler sees), for a sample of each event with every
// property, at every depth, removed or set to values of other kinds. A
// zero time is taken for an absent one (Go has no other way to say it):
// Validate refuses it where the schema requires the property.
func TestValidateAgreesWithSchemaOnEveryEvent(t *testing.T) {
	replacements := []any{nil, "", "x y!", "2026-11-25T10:15:00Z", 0, -1, 1, 101, 1e12, true, []any{}, []any{""}, map[string]any{}}
	for _, sample := range samples() {
		name := sample.EventName()
		raw, _ := json.Marshal(sample)
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		checked, refused := 0, 0
		check := func(what string, payload []byte) {
			t.Helper()
			v := reflect.New(reflect.TypeOf(sample).Elem()).Interface().(events.Event)
			if json.Unmarshal(payload, v) != nil {
				return // the decoder refuses it: dead-lettered either way
			}
			again, _ := json.Marshal(v)
			var seen any
			if err := json.Unmarshal(again, &seen); err != nil {
				t.Fatal(err)
			}
			want := eventschema.ValidateEvent(name, mustJSON(t, withoutZeroTimes(seen)))
			got := v.(interface{ Validate() error }).Validate()
			checked++
			if got != nil {
				refused++
			}
			if (got == nil) != (want == nil) {
				t.Errorf("%s, %s: Validate says %v, the schema %v\n%s", name, what, got, want, again)
			}
		}
		check("as it is", raw)
		for _, path := range paths(doc, "") {
			for _, r := range replacements {
				check(fmt.Sprintf("%s = %v", path, r), mustJSON(t, replaced(doc, path, r, false)))
			}
			check(path+" removed", mustJSON(t, replaced(doc, path, nil, true)))
		}
		if refused == 0 || refused == checked {
			t.Errorf("%s: %d of %d variants refused: the mutations reach no rule", name, refused, checked)
		}
	}
}

// withoutZeroTimes drops the properties whose value is the zero time.
func withoutZeroTimes(doc any) any {
	switch x := doc.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, v := range x {
			if v != "0001-01-01T00:00:00Z" {
				out[k] = withoutZeroTimes(v)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = withoutZeroTimes(v)
		}
		return out
	}
	return doc
}

// paths lists the JSON pointer of every value below doc ("/a/0/b").
func paths(doc any, at string) []string {
	var out []string
	switch x := doc.(type) {
	case map[string]any:
		for k, v := range x {
			out = append(out, at+"/"+k)
			out = append(out, paths(v, at+"/"+k)...)
		}
	case []any:
		for i, v := range x {
			p := fmt.Sprintf("%s/%d", at, i)
			out = append(out, p)
			out = append(out, paths(v, p)...)
		}
	}
	return out
}

// replaced returns a deep copy of doc with the value at path set to v, or
// removed.
func replaced(doc any, path string, v any, remove bool) any {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var walk func(cur any, i int) any
	walk = func(cur any, i int) any {
		switch x := cur.(type) {
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, val := range x {
				switch {
				case k != parts[i]:
					out[k] = val
				case i == len(parts)-1 && remove:
				case i == len(parts)-1:
					out[k] = v
				default:
					out[k] = walk(val, i+1)
				}
			}
			return out
		case []any:
			out := make([]any, 0, len(x))
			for j, val := range x {
				switch {
				case fmt.Sprint(j) != parts[i]:
					out = append(out, val)
				case i == len(parts)-1 && remove:
				case i == len(parts)-1:
					out = append(out, v)
				default:
					out = append(out, walk(val, i+1))
				}
			}
			return out
		}
		return cur
	}
	return walk(doc, 0)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
