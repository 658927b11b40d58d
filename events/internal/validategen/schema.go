package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/segmentio/encoding/json"
)

// node is a schema (or sub-schema) and the file it is in, against which
// its relative references resolve.
type node struct {
	m    map[string]any
	file string
}

// loader reads schema files once each.
type loader struct {
	dir   string
	files map[string]map[string]any
}

func (l *loader) load(file string) (map[string]any, error) {
	if doc, ok := l.files[file]; ok {
		return doc, nil
	}
	raw, err := os.ReadFile(filepath.Join(l.dir, file))
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	l.files[file] = doc
	return doc, nil
}

// resolve follows a $ref ("common.json#/$defs/run", "#/$defs/domain").
func (l *loader) resolve(from node, ref string) (node, error) {
	file, pointer, _ := strings.Cut(ref, "#")
	if file == "" {
		file = from.file
	}
	doc, err := l.load(file)
	if err != nil {
		return node{}, err
	}
	var cur any = doc
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if tok == "" {
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return node{}, fmt.Errorf("$ref %s in %s: %s is not an object", ref, from.file, tok)
		}
		if cur, ok = m[tok]; !ok {
			return node{}, fmt.Errorf("$ref %s in %s: no %s", ref, from.file, tok)
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return node{}, fmt.Errorf("$ref %s in %s is not a schema", ref, from.file)
	}
	return node{m: m, file: file}, nil
}

// sub returns the schema under key, or ok=false.
func (n node) sub(key string) (node, bool) {
	m, ok := n.m[key].(map[string]any)
	return node{m: m, file: n.file}, ok
}

func (n node) strings(key string) []string {
	var out []string
	for _, v := range asList(n.m[key]) {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (n node) number(key string) (int64, bool) {
	f, ok := n.m[key].(float64)
	return int64(f), ok
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
