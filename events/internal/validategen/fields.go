package main

import (
	"reflect"
	"slices"
	"strings"
)

// field is a struct field as encoding/json sees it.
type field struct {
	json   string
	goPath string // from the struct: "Run.RunID"
	typ    reflect.Type
	index  []int
	// omitEmpty: tagged omitempty.
	omitEmpty bool
}

// jsonFields returns t's fields by JSON name, those of embedded structs
// included (as encoding/json promotes them).
func jsonFields(t reflect.Type) map[string]field {
	out := map[string]field{}
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			idx := append(slices.Clone(index), i)
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type, prefix+f.Name+".", idx)
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, shadowed := out[name]; !shadowed || len(idx) < len(out[name].index) {
				out[name] = field{json: name, goPath: prefix + f.Name, typ: f.Type, index: idx,
					omitEmpty: slices.Contains(strings.Split(opts, ","), "omitempty")}
			}
		}
	}
	walk(t, "", nil)
	return out
}

// fieldOrder lists fields in the order the struct declares them.
func fieldOrder(fields map[string]field) []field {
	out := make([]field, 0, len(fields))
	for _, f := range fields {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out
}
