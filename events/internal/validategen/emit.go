package main

import (
	"bytes"
	"encoding"
	"fmt"
	"go/format"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// gen writes Go code that checks values against schemas.
type gen struct {
	l        *loader
	patterns map[string]string  // pattern → name of its regexp variable
	helpers  map[string]*helper // by definition and Go type
	order    []string           // helpers' keys, in the order first used
	utf8     bool               // the code counts characters
	loops    int                // loop variables handed out
}

// value is a Go value under check: an expression, its type, and its path
// in messages (indexes as %d, filled from args, the loop variables).
type value struct {
	expr string
	typ  reflect.Type
	path string
	args []string
	// omitEmpty: the field is tagged omitempty, so its zero value is
	// encoded as absent, which only a required property may not be.
	omitEmpty bool
	// ptr: expr is a pointer to a struct of type typ.
	ptr bool
}

func (v value) field(f field) value {
	p := strings.ReplaceAll(f.json, "%", "%%")
	if v.path != "" {
		p = v.path + "/" + p
	}
	return value{expr: v.expr + "." + f.goPath, typ: f.typ, path: p, args: v.args, omitEmpty: f.omitEmpty}
}

// unlessAbsent wraps the checks of v in a test that it is not its zero
// value, when that value is encoded as absent and absent is allowed.
func unlessAbsent(b *bytes.Buffer, v value, required bool, zeroTest string, checks []byte) {
	if len(checks) == 0 {
		return
	}
	if v.omitEmpty && !required {
		fmt.Fprintf(b, "if %s {\n%s}\n", zeroTest, checks)
		return
	}
	b.Write(checks)
}

// fail is the statement that records msg (a format; its own arguments,
// Go expressions, in extra) against v.
func (v value) fail(msg string, extra ...string) string {
	args := append(slices.Clone(v.args), extra...)
	format := v.path + ": " + msg
	if len(args) == 0 {
		return "c.failf(" + strconv.Quote(format) + ")"
	}
	return "c.failf(" + strconv.Quote(format) + ", " + strings.Join(args, ", ") + ")"
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// Keywords that say nothing a check needs.
var annotations = []string{"$schema", "$id", "$defs", "title", "description"}

// only fails if n has a keyword outside annotations, $ref, allOf, type
// and allowed.
func only(n node, where string, allowed ...string) error {
	for k := range n.m {
		if !slices.Contains(annotations, k) && !slices.Contains(allowed, k) && k != "$ref" && k != "allOf" && k != "type" {
			return fmt.Errorf("%s: keyword %q is not supported here (validategen knows %s)", where, k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// emit writes to b the checks of v against n; required: n's parent lists
// v as required.
func (g *gen) emit(b *bytes.Buffer, n node, v value, required bool) error {
	where := "schema of " + v.path
	if v.path == "" {
		where = "schema " + n.file
	}
	if t := v.typ; t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		// The whole schema applies to what the pointer points to.
		var inner bytes.Buffer
		if err := g.emit(&inner, n, value{expr: v.expr, typ: t.Elem(), path: v.path, args: v.args, ptr: true}, false); err != nil {
			return err
		}
		switch {
		case required && inner.Len() > 0:
			fmt.Fprintf(b, "if %s == nil {\n%s\n} else {\n%s}\n", v.expr, v.fail("is required"), inner.Bytes())
		case required:
			fmt.Fprintf(b, "if %s == nil {\n%s\n}\n", v.expr, v.fail("is required"))
		case inner.Len() > 0:
			fmt.Fprintf(b, "if %s != nil {\n%s}\n", v.expr, inner.Bytes())
		}
		return nil
	}
	if ref, ok := n.m["$ref"].(string); ok {
		r, err := g.l.resolve(n, ref)
		if err != nil {
			return err
		}
		hv, shared := value{}, v.typ.Kind() == reflect.Struct && v.typ != timeType && objectRef(r)
		if shared {
			hv, shared = holder(r, v)
		}
		if shared {
			ptr := v.ptr && hv.expr == v.expr
			if err := g.call(b, r.file+ref[strings.Index(ref, "#"):], r, hv, ptr); err != nil {
				return err
			}
		} else if err := g.emit(b, r, v, required); err != nil {
			return err
		}
		required = false // said once
	}
	for _, s := range asList(n.m["allOf"]) {
		m, ok := s.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: allOf holds a non-schema", where)
		}
		if err := g.emit(b, node{m: m, file: n.file}, v, false); err != nil {
			return err
		}
	}
	if v.typ != timeType && reflect.PointerTo(v.typ).Implements(textUnmarshaler) {
		// Its own UnmarshalText decodes (and checks) the text; what is
		// decoded is valid.
		return only(n, where, "pattern", "format")
	}
	if err := checkType(n, v.typ, where); err != nil {
		return err
	}
	t := v.typ
	switch {
	case t == timeType:
		if err := only(n, where, "format"); err != nil {
			return err
		}
		if f, ok := n.m["format"]; ok && f != "date-time" {
			return fmt.Errorf("%s: format %v on a time", where, f)
		}
		if required {
			fmt.Fprintf(b, "if %s.IsZero() {\n%s\n}\n", v.expr, v.fail("is required"))
		}
	case t.Kind() == reflect.Struct:
		// A required struct is there once decoded, absent or not: its own
		// properties are checked.
		return g.object(b, n, v, where)
	case t.Kind() == reflect.Slice:
		return g.array(b, n, v, required, where)
	case t.Kind() == reflect.String:
		return g.str(b, n, v, required, where)
	case isNumber(t):
		if err := only(n, where, "minimum", "maximum"); err != nil {
			return err
		}
		// A required number's absence cannot be told from 0: minimum says
		// what 0 means.
		var checks bytes.Buffer
		if m, ok := n.m["minimum"].(float64); ok {
			lit := strconv.FormatFloat(m, 'g', -1, 64)
			fmt.Fprintf(&checks, "if %s < %s {\n%s\n}\n", v.expr, lit, v.fail("%v is less than "+lit, v.expr))
		}
		if m, ok := n.m["maximum"].(float64); ok {
			lit := strconv.FormatFloat(m, 'g', -1, 64)
			fmt.Fprintf(&checks, "if %s > %s {\n%s\n}\n", v.expr, lit, v.fail("%v is more than "+lit, v.expr))
		}
		unlessAbsent(b, v, required, v.expr+" != 0", checks.Bytes())
	case t.Kind() == reflect.Bool:
		return only(n, where)
	default:
		return fmt.Errorf("%s: Go type %s is not supported", where, t)
	}
	return nil
}

func isNumber(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Float64:
		return true
	}
	return false
}

// checkType fails when the schema's type does not fit the Go type.
func checkType(n node, t reflect.Type, where string) error {
	want, ok := n.m["type"].(string)
	if !ok {
		return nil
	}
	k := t.Kind()
	fits := map[string]bool{
		"object":  k == reflect.Struct && t != timeType || k == reflect.Pointer,
		"array":   k == reflect.Slice,
		"string":  k == reflect.String || t == timeType,
		"integer": isNumber(t) && k != reflect.Float64,
		"number":  isNumber(t),
		"boolean": k == reflect.Bool,
	}[want]
	if !fits {
		return fmt.Errorf("%s: type %q does not fit Go type %s", where, want, t)
	}
	return nil
}

// object writes the checks of a struct's properties, and of if/then.
func (g *gen) object(b *bytes.Buffer, n node, v value, where string) error {
	if err := only(n, where, "properties", "required", "if", "then"); err != nil {
		return err
	}
	fields := jsonFields(v.typ)
	required := n.strings("required")
	props, _ := n.m["properties"].(map[string]any)
	for name := range props {
		if _, ok := fields[name]; !ok {
			return fmt.Errorf("%s: property %q has no field in %s", where, name, v.typ)
		}
	}
	for _, name := range required {
		if _, ok := fields[name]; !ok {
			return fmt.Errorf("%s: required %q has no field in %s", where, name, v.typ)
		}
	}
	for _, f := range fieldOrder(fields) {
		p, inProps := props[f.json].(map[string]any)
		req := slices.Contains(required, f.json)
		if !inProps && !req {
			continue
		}
		if err := g.emit(b, node{m: p, file: n.file}, v.field(f), req); err != nil {
			return err
		}
	}
	return g.conditional(b, n, v, fields, where)
}

// conditional writes "if": {"properties": {p: {"enum": [...]}}},
// "then": {"required": [...]}: the fields then requires, when every p is
// one of its values.
func (g *gen) conditional(b *bytes.Buffer, n node, v value, fields map[string]field, where string) error {
	ifn, hasIf := n.sub("if")
	then, hasThen := n.sub("then")
	if !hasIf && !hasThen {
		return nil
	}
	if !hasIf || !hasThen || len(ifn.m) != 1 || len(then.m) != 1 || then.m["required"] == nil {
		return fmt.Errorf("%s: only if.properties.*.enum with then.required is supported", where)
	}
	props, ok := ifn.m["properties"].(map[string]any)
	if !ok {
		return fmt.Errorf("%s: only if.properties.*.enum with then.required is supported", where)
	}
	var conds []string
	for _, name := range slices.Sorted(maps.Keys(props)) {
		p, _ := props[name].(map[string]any)
		f, ok := fields[name]
		if len(p) != 1 || p["enum"] == nil || !ok || f.typ.Kind() != reflect.String {
			return fmt.Errorf("%s: if.properties.%s must be an enum of a string field", where, name)
		}
		conds = append(conds, "("+oneOf(v.expr+"."+f.goPath, node{m: p}.strings("enum"))+")")
	}
	var inner bytes.Buffer
	for _, name := range then.strings("required") {
		f, ok := fields[name]
		if !ok {
			return fmt.Errorf("%s: then requires %q, which has no field in %s", where, name, v.typ)
		}
		fv := v.field(f)
		if cond := absent(fv); cond != "" {
			fmt.Fprintf(&inner, "if %s {\n%s\n}\n", cond, fv.fail("is required"))
		}
	}
	if inner.Len() > 0 {
		fmt.Fprintf(b, "if %s {\n%s}\n", strings.Join(conds, " && "), inner.Bytes())
	}
	return nil
}

// absent is the condition under which a decoded field was absent (or
// empty, which a decoded value cannot tell apart); "" if none can tell.
func absent(v value) string {
	switch k := v.typ.Kind(); {
	case v.typ == timeType:
		return v.expr + ".IsZero()"
	case k == reflect.Pointer || k == reflect.Slice || k == reflect.Map:
		return v.expr + " == nil"
	}
	return ""
}

// array writes the checks of a slice and of each of its items.
func (g *gen) array(b *bytes.Buffer, n node, v value, required bool, where string) error {
	if err := only(n, where, "items", "minItems"); err != nil {
		return err
	}
	var cond []string
	if required && !slices.Contains(n.strings("type"), "null") {
		// nil is encoded as null (or left out), which only a type that
		// lists "null" allows.
		cond = append(cond, fmt.Sprintf("if %s == nil {\n%s\n}", v.expr, v.fail("is required")))
	}
	if m, ok := n.number("minItems"); ok {
		short := fmt.Sprintf("len(%s) < %d", v.expr, m)
		if v.omitEmpty && !required {
			short = fmt.Sprintf("len(%s) > 0 && %s", v.expr, short)
		}
		cond = append(cond, fmt.Sprintf("if %s {\n%s\n}", short, v.fail(fmt.Sprintf("must have at least %d items", m))))
	}
	if len(cond) > 0 {
		b.WriteString(strings.Join(cond, " else ") + "\n")
	}
	items, ok := n.sub("items")
	if !ok {
		return nil
	}
	i := fmt.Sprintf("i%d", g.loops)
	x := fmt.Sprintf("x%d", g.loops)
	g.loops++
	elem := v.typ.Elem()
	item := value{expr: x, typ: elem, path: v.path + "/%d", args: append(slices.Clone(v.args), i),
		ptr: elem.Kind() == reflect.Struct && elem != timeType}
	var inner bytes.Buffer
	if err := g.emit(&inner, items, item, false); err != nil {
		return err
	}
	if inner.Len() == 0 {
		g.loops-- // unused
		return nil
	}
	bind := x + " := " + v.expr + "[" + i + "]"
	if elem.Kind() == reflect.Struct && elem != timeType {
		bind = x + " := &" + v.expr + "[" + i + "]"
	}
	fmt.Fprintf(b, "for %s := range %s {\n%s\n%s}\n", i, v.expr, bind, inner.Bytes())
	return nil
}

// str writes the checks of a string: one message at most, the first of
// absent, length, pattern, enum that fails.
func (g *gen) str(b *bytes.Buffer, n node, v value, required bool, where string) error {
	if err := only(n, where, "minLength", "maxLength", "pattern", "enum", "format"); err != nil {
		return err
	}
	var conds []string
	add := func(cond, fail string) { conds = append(conds, fmt.Sprintf("if %s {\n%s\n}", cond, fail)) }
	if f, ok := n.m["format"]; ok {
		if f != "date-time" {
			return fmt.Errorf("%s: format %v is not supported", where, f)
		}
		// "" is no date-time: absent, unless required.
		if required {
			add(v.expr+` == ""`, v.fail("is required"))
		}
		add(fmt.Sprintf(`%s != "" && !isDateTime(%s)`, v.expr, v.expr), v.fail("%q is not a date-time (RFC 3339)", v.expr))
	}
	minLen, hasMin := n.number("minLength")
	maxLen, hasMax := n.number("maxLength")
	if hasMin && minLen >= 1 {
		add(v.expr+` == ""`, v.fail("is required"))
	}
	switch {
	case hasMax && minLen > 1:
		g.utf8 = true
		add(fmt.Sprintf("n := utf8.RuneCountInString(%s); n < %d || n > %d", v.expr, minLen, maxLen),
			v.fail(fmt.Sprintf("%%q must have %d to %d characters", minLen, maxLen), v.expr))
	case hasMax:
		g.utf8 = true
		add(fmt.Sprintf("utf8.RuneCountInString(%s) > %d", v.expr, maxLen), v.fail(fmt.Sprintf("must have at most %d characters", maxLen)))
	case minLen > 1:
		g.utf8 = true
		add(fmt.Sprintf("utf8.RuneCountInString(%s) < %d", v.expr, minLen), v.fail(fmt.Sprintf("%%q must have at least %d characters", minLen), v.expr))
	}
	if p, ok := n.m["pattern"].(string); ok {
		add("!"+g.pattern(p)+".MatchString("+v.expr+")", v.fail("%q does not match "+strings.ReplaceAll(p, "%", "%%"), v.expr))
	}
	if _, ok := n.m["enum"]; ok {
		vals := n.strings("enum")
		if len(vals) != len(asList(n.m["enum"])) {
			return fmt.Errorf("%s: enum of a string holds a non-string", where)
		}
		quoted := make([]string, len(vals))
		for i, s := range vals {
			quoted[i] = strconv.Quote(s)
		}
		add("!("+oneOf(v.expr, vals)+")", v.fail("%q is not one of "+strings.ReplaceAll(strings.Join(quoted, ", "), "%", "%%"), v.expr))
	}
	if len(conds) > 0 {
		unlessAbsent(b, v, required, v.expr+` != ""`, []byte(strings.Join(conds, " else ")+"\n"))
	}
	return nil
}

func oneOf(expr string, vals []string) string {
	var or []string
	for _, s := range vals {
		or = append(or, expr+" == "+strconv.Quote(s))
	}
	return strings.Join(or, " || ")
}

// pattern returns the name of the variable that holds p compiled.
func (g *gen) pattern(p string) string {
	if name, ok := g.patterns[p]; ok {
		return name
	}
	name := fmt.Sprintf("schemaPattern%d", len(g.patterns))
	g.patterns[p] = name
	return name
}

// generate returns the source of validate_gen.go.
func generate(dir string) ([]byte, error) {
	g := &gen{l: &loader{dir: dir, files: map[string]map[string]any{}}, patterns: map[string]string{}, helpers: map[string]*helper{}}
	var body bytes.Buffer
	for _, t := range targets() {
		doc, err := g.l.load(t.name + ".json")
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&body, "\n// Validate checks a decoded %s event against its JSON Schema\n// (schemas/events/%s.json).\n", t.name, t.name)
		fmt.Fprintf(&body, "func (e *%s) Validate() error {\nvar c checks\n", t.typ.Name())
		if err := g.emit(&body, node{m: doc, file: t.name + ".json"}, value{expr: "e", typ: t.typ}, false); err != nil {
			return nil, err
		}
		body.WriteString("return c.err()\n}\n")
	}
	var out bytes.Buffer
	out.WriteString("// Code generated by validategen from schemas/events; DO NOT EDIT.\n\npackage events\n\n")
	var imports []string
	if len(g.patterns) > 0 {
		imports = append(imports, `"regexp"`)
	}
	if g.utf8 {
		imports = append(imports, `"unicode/utf8"`)
	}
	if len(imports) > 0 {
		fmt.Fprintf(&out, "import (\n%s\n)\n\n", strings.Join(imports, "\n"))
	}
	if len(g.patterns) > 0 {
		out.WriteString("var (\n")
		for _, p := range slices.Sorted(maps.Keys(g.patterns)) {
			fmt.Fprintf(&out, "%s = regexp.MustCompile(%s)\n", g.patterns[p], strconv.Quote(p))
		}
		out.WriteString(")\n")
	}
	out.Write(body.Bytes())
	for _, key := range g.order {
		out.Write(g.helpers[key].body)
	}
	src, err := format.Source(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("generated code does not parse: %w\n%s", err, out.Bytes())
	}
	return src, nil
}
