package accounts

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	filter "github.com/scim2/filter-parser/v2"
)

// ErrInvalidFilter is a SCIM filter this store cannot answer: a syntax
// error, an unknown attribute, or an operator the attribute has not.
var ErrInvalidFilter = errors.New("invalid filter")

// scimColumn is how a SCIM attribute maps to SQL.
type scimColumn struct {
	expr string
	kind int // text, caseExactText, boolean, dateTime, group
}

const (
	colText = iota // case-insensitive (caseExact false)
	colExact
	colBool
	colTime
	colGroupName
	colGroupID
	colID
)

// SCIM attribute paths (lower case: SCIM names are case-insensitive).
var userColumns = map[string]scimColumn{
	"id":                {"", colID},
	"externalid":        {"a.external_id", colExact},
	"username":          {"a.local_name", colText},
	"displayname":       {"a.display_name", colText},
	"name.givenname":    {"a.given_name", colText},
	"name.familyname":   {"a.surname", colText},
	"emails":            {"a.email", colText},
	"emails.value":      {"a.email", colText},
	"active":            {"a.active", colBool},
	"meta.lastmodified": {"a.updated_at", colTime},
	"meta.created":      {"a.created_at", colTime},
	"groups":            {"", colGroupID},
	"groups.value":      {"", colGroupID},
	"groups.display":    {"", colGroupName},
	// adsync's own, for the console's account search.
	"adsync.domain":         {"a.domain", colExact},
	"adsync.inactivereason": {"a.inactive_reason", colExact},
	"adsync.deactivatedby":  {"a.deactivated_by", colExact},
}

var groupColumns = map[string]scimColumn{
	"id":                {"", colID},
	"externalid":        {"g.external_id", colExact},
	"displayname":       {"g.name", colText},
	"meta.lastmodified": {"g.updated_at", colTime},
}

const userPrefix = "urn:ietf:params:scim:schemas:core:2.0:user"
const groupPrefix = "urn:ietf:params:scim:schemas:core:2.0:group"

// scimWhere translates a SCIM filter (RFC 7644 3.4.2.2) to an SQL
// condition over the alias a (accounts) or g (groups), with its arguments.
// The parsing is scim2/filter-parser's; only the mapping is ours.
func scimWhere(raw string, groups bool, domains func() ([]string, error)) (string, []any, error) {
	if strings.TrimSpace(raw) == "" {
		return "1=1", nil, nil
	}
	expr, ok := simpleFilter(raw)
	if !ok {
		var err error
		if expr, err = filter.ParseFilter([]byte(raw)); err != nil {
			return "", nil, fmt.Errorf("%w: %q is not a SCIM filter: %v", ErrInvalidFilter, raw, err)
		}
	}
	t := translator{cols: userColumns, alias: "a", prefix: userPrefix, domains: domains}
	if groups {
		t = translator{cols: groupColumns, alias: "g", prefix: groupPrefix, domains: domains}
	}
	sql, err := t.expr(expr)
	return sql, t.args, err
}

type translator struct {
	cols   map[string]scimColumn
	alias  string
	prefix string
	args   []any
	// domains lists the table's domains (Store.domainsOf), asked only by
	// a filter that needs them.
	domains func() ([]string, error)
}

func (t *translator) expr(e filter.Expression) (string, error) {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		l, err := t.expr(e.Left)
		if err != nil {
			return "", err
		}
		r, err := t.expr(e.Right)
		if err != nil {
			return "", err
		}
		op := "AND"
		if e.Operator == filter.OR {
			op = "OR"
		}
		return "(" + l + " " + op + " " + r + ")", nil
	case *filter.NotExpression:
		s, err := t.expr(e.Expression)
		if err != nil {
			return "", err
		}
		return "NOT (" + s + ")", nil
	case *filter.AttributeExpression:
		return t.compare(e.AttributePath, e.Operator, e.CompareValue)
	case *filter.ValuePath:
		// emails[value co "x"]: a filter on the sub-attributes of one
		// multi-valued attribute; each account has one e-mail address.
		if e.ValueFilter == nil {
			return "", fmt.Errorf("%w: %s[] needs a filter", ErrInvalidFilter, e.AttributePath)
		}
		inner, ok := e.ValueFilter.(*filter.AttributeExpression)
		if !ok {
			return "", fmt.Errorf("%w: only one comparison inside %s[…] is supported", ErrInvalidFilter, e.AttributePath)
		}
		path := inner.AttributePath
		sub := path.AttributeName
		path = filter.AttributePath{URIPrefix: e.AttributePath.URIPrefix, AttributeName: e.AttributePath.AttributeName, SubAttribute: &sub}
		return t.compare(path, inner.Operator, inner.CompareValue)
	}
	return "", fmt.Errorf("%w: unsupported expression %v", ErrInvalidFilter, e)
}

func (t *translator) compare(p filter.AttributePath, op filter.CompareOperator, v any) (string, error) {
	if uri := strings.ToLower(p.URI()); uri != "" && uri != t.prefix {
		return "", fmt.Errorf("%w: attribute %s is not in this resource's schema", ErrInvalidFilter, p)
	}
	name := strings.ToLower(p.AttributeName)
	if p.SubAttribute != nil {
		name += "." + strings.ToLower(*p.SubAttribute)
	}
	col, ok := t.cols[name]
	if !ok {
		return "", fmt.Errorf("%w: cannot filter on %s (filterable: %s)", ErrInvalidFilter, p, strings.Join(filterable(t.cols), ", "))
	}
	op = filter.CompareOperator(strings.ToLower(string(op)))
	switch col.kind {
	case colBool:
		b, ok := v.(bool)
		if op == filter.PR {
			return "1=1", nil
		}
		if !ok || op != filter.EQ && op != filter.NE {
			return "", fmt.Errorf("%w: %s takes eq or ne with true or false", ErrInvalidFilter, p)
		}
		// A literal, not a parameter: SQLite uses the partial index of
		// inactive accounts (WHERE active = 0) only for a literal.
		want := b == (op == filter.EQ)
		if want {
			return col.expr + " = 1", nil
		}
		return col.expr + " = 0", nil
	case colTime:
		if op == filter.PR {
			return col.expr + " <> ''", nil
		}
		s, _ := v.(string)
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return "", fmt.Errorf("%w: %s compares with a date-time such as \"2026-12-01T00:00:00Z\", not %v", ErrInvalidFilter, p, v)
		}
		sqlOp, ok := orderOps[op]
		if !ok {
			return "", fmt.Errorf("%w: %s takes eq, ne, gt, ge, lt, le or pr", ErrInvalidFilter, p)
		}
		// Stored times have a fixed width and sort as text (storedTime).
		t.args = append(t.args, at.UTC().Format(storedTime))
		return col.expr + " " + sqlOp + " ?", nil
	case colGroupName, colGroupID:
		cond, err := t.text(groupExpr(col.kind), colText, op, v, p)
		if err != nil {
			return "", err
		}
		// The members of the matching groups, read once, rather than a
		// membership lookup for every account.
		return `a.id IN (SELECT m.account FROM groups g JOIN memberships m
			ON m.domain=g.domain AND m.group_id=g.external_id WHERE ` + cond + ")", nil
	case colExact:
		if str, ok := v.(string); ok && op == filter.EQ && (name == "externalid") {
			// One lookup of the (domain, external_id) key per domain.
			domains, err := t.domains()
			if err != nil {
				return "", err
			}
			if len(domains) == 0 {
				return "0", nil
			}
			t.args = append(t.args, str)
			for _, d := range domains {
				t.args = append(t.args, d)
			}
			return t.alias + ".external_id = ? AND " + t.alias + ".domain IN (?" + strings.Repeat(", ?", len(domains)-1) + ")", nil
		}
	case colID:
		if s, ok := v.(string); ok && op == filter.EQ {
			if domain, id, found := strings.Cut(s, ":"); found {
				t.args = append(t.args, domain, id)
				return t.alias + ".domain = ? AND " + t.alias + ".external_id = ?", nil
			}
			return "0=1", nil
		}
		return t.text(t.alias+".domain || ':' || "+t.alias+".external_id", colExact, op, v, p)
	}
	return t.text(col.expr, col.kind, op, v, p)
}

func groupExpr(kind int) string {
	if kind == colGroupName {
		return "g.name"
	}
	return "g.domain || ':' || g.external_id"
}

var orderOps = map[filter.CompareOperator]string{filter.EQ: "=", filter.NE: "<>", filter.GT: ">", filter.GE: ">=", filter.LT: "<", filter.LE: "<="}

// text compares a text column: case-insensitively unless exact.
func (t *translator) text(expr string, kind int, op filter.CompareOperator, v any, p filter.AttributePath) (string, error) {
	if op == filter.PR {
		return expr + " <> ''", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %s compares with a string, not %v", ErrInvalidFilter, p, v)
	}
	collate := " COLLATE NOCASE"
	if kind == colExact {
		collate = ""
	}
	if sqlOp, ok := orderOps[op]; ok {
		t.args = append(t.args, s)
		return expr + " " + sqlOp + " ?" + collate, nil
	}
	if op == filter.SW && kind == colText && s != "" {
		// A range rather than LIKE: the local name's NOCASE index answers
		// it (LIKE with ESCAPE is not optimized), and it means the same:
		// NOCASE folds ASCII letters only, as LIKE does.
		lo := strings.Map(asciiLower, s)
		r := []rune(lo)
		r[len(r)-1]++
		t.args = append(t.args, lo, string(r))
		return "(" + expr + " >= ? COLLATE NOCASE AND " + expr + " < ? COLLATE NOCASE)", nil
	}
	var pattern string
	switch op {
	case filter.CO:
		pattern = "%" + likeEscape(s) + "%"
	case filter.SW:
		pattern = likeEscape(s) + "%"
	case filter.EW:
		pattern = "%" + likeEscape(s)
	default:
		return "", fmt.Errorf("%w: unknown operator %s", ErrInvalidFilter, op)
	}
	if kind == colExact { // LIKE ignores ASCII case: compare by position
		n := utf8.RuneCountInString(s)
		switch op {
		case filter.CO:
			t.args = append(t.args, s)
			return "instr(" + expr + ", ?) > 0", nil
		case filter.SW:
			t.args = append(t.args, n, s)
			return "substr(" + expr + ", 1, ?) = ?", nil
		default:
			t.args = append(t.args, -n, s)
			return "(length(" + expr + ") >= " + fmt.Sprint(n) + " AND substr(" + expr + ", ?) = ?)", nil
		}
	}
	t.args = append(t.args, pattern)
	return expr + ` LIKE ? ESCAPE '\'`, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func filterable(cols map[string]scimColumn) []string {
	out := make([]string, 0, len(cols))
	for k := range cols {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func asciiLower(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + ('a' - 'A')
	}
	return r
}

// FilterString is s as a SCIM filter's string literal (quoted, escaped).
func FilterString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
