package main

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// A definition that several events share ($ref to an object schema: the
// run, an entry, counts) is checked by one function for each Go type it
// describes, which the events call: its messages name properties from the
// definition's root, and the caller adds its own path to those that fail.

// helper is a generated check function.
type helper struct {
	name string
	body []byte
}

// objectRef reports whether r describes an object by its properties.
func objectRef(r node) bool {
	_, props := r.m["properties"]
	_, req := r.m["required"]
	return props || req
}

// holder returns the value r's properties belong to: v itself, or the
// struct v embeds that declares all of them (events.Run in every run
// event); ok=false when they are spread over both.
func holder(r node, v value) (value, bool) {
	names := append(r.strings("required"), slices.Sorted(maps.Keys(asMap(r.m["properties"])))...)
	fields := jsonFields(v.typ)
	embedded := ""
	for i, name := range names {
		f, ok := fields[name]
		if !ok {
			return value{}, false
		}
		outer, _, nested := strings.Cut(f.goPath, ".")
		switch {
		case !nested:
			outer = ""
		case strings.Contains(f.goPath[len(outer)+1:], "."):
			return value{}, false
		}
		if i > 0 && outer != embedded {
			return value{}, false
		}
		embedded = outer
	}
	if embedded == "" {
		return v, true
	}
	sf, _ := v.typ.FieldByName(embedded)
	return value{expr: v.expr + "." + embedded, typ: sf.Type, path: v.path, args: v.args}, true
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// call writes the call of the check of definition ref (r) on v, a struct
// value or a pointer to one (ptr), generating the function on first use.
func (g *gen) call(b *bytes.Buffer, ref string, r node, v value, ptr bool) error {
	name, err := g.helperFor(ref, r, v.typ)
	if err != nil {
		return err
	}
	arg := v.expr
	if !ptr {
		arg = "&" + arg
	}
	if v.path == "" {
		fmt.Fprintf(b, "c = append(c, %s(%s)...)\n", name, arg)
		return nil
	}
	args := append(slices.Clone(v.args), "err")
	fmt.Fprintf(b, "for _, err := range %s(%s) {\nc.failf(%q, %s)\n}\n", name, arg, v.path+"/%w", strings.Join(args, ", "))
	return nil
}

// helperFor returns the name of the function that checks a t against the
// definition ref, generating it on first use.
func (g *gen) helperFor(ref string, r node, t reflect.Type) (string, error) {
	key := ref + " " + t.String()
	if h, ok := g.helpers[key]; ok {
		return h.name, nil
	}
	name := "check" + t.Name()
	for _, h := range g.helpers {
		if h.name == name {
			def := ref[strings.LastIndex(ref, "/")+1:]
			name += strings.ToUpper(def[:1]) + def[1:]
		}
	}
	h := &helper{name: name}
	g.helpers[key] = h // before the body: a definition may refer to itself
	g.order = append(g.order, key)
	var body bytes.Buffer
	if err := g.emit(&body, r, value{expr: "x", typ: t}, false); err != nil {
		return "", err
	}
	var fn bytes.Buffer
	fmt.Fprintf(&fn, "\n// %s checks a %s against %s.\nfunc %s(x *%s) checks {\nvar c checks\n%sreturn c\n}\n", name, t.Name(), ref, name, t.Name(), body.Bytes())
	h.body = fn.Bytes()
	return name, nil
}
