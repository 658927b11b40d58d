package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/adsync/adsync/internal/accounts"
)

// scimUser is an account as a SCIM User. Its id is domain:external_id;
// externalId the directory's objectGUID or entryUUID; userName the local
// name.
func scimUser(u accounts.UserRecord, base string) map[string]any {
	id := u.Domain + ":" + u.ExternalID
	res := map[string]any{
		"schemas":     []string{scimUserSchema},
		"id":          id,
		"externalId":  u.ExternalID,
		"userName":    u.LocalName,
		"displayName": u.DisplayName,
		"name":        map[string]any{"givenName": u.GivenName, "familyName": u.Surname},
		"active":      u.Active,
	}
	if u.Email != "" {
		res["emails"] = []map[string]any{{"value": u.Email, "type": "work", "primary": true}}
	}
	groups := make([]map[string]any, 0, len(u.GroupRefs))
	for _, g := range u.GroupRefs {
		groups = append(groups, map[string]any{"value": g.ID, "display": g.Name, "$ref": base + "/Groups/" + url.PathEscape(g.ID), "type": "indirect"})
	}
	res["groups"] = groups
	res["meta"] = meta("User", u.CreatedAt, u.UpdatedAt, base+"/Users/"+url.PathEscape(id), res)
	return res
}

// scimGroup is a group as a SCIM Group.
func scimGroup(g accounts.GroupRecord, base string, withMembers bool) map[string]any {
	id := g.Domain + ":" + g.ExternalID
	res := map[string]any{
		"schemas":     []string{scimGroupSchema},
		"id":          id,
		"externalId":  g.ExternalID,
		"displayName": g.Name,
	}
	if withMembers {
		members := make([]map[string]any, 0, len(g.Members))
		for _, m := range g.Members {
			members = append(members, map[string]any{"value": m.ID, "display": m.LocalName, "$ref": base + "/Users/" + url.PathEscape(m.ID), "type": "User"})
		}
		res["members"] = members
	}
	res["meta"] = meta("Group", g.UpdatedAt, g.UpdatedAt, base+"/Groups/"+url.PathEscape(id), res)
	return res
}

// meta is a resource's meta; version is a weak ETag of its content.
func meta(kind, created, modified, location string, res map[string]any) map[string]any {
	raw, _ := json.Marshal(res) // map keys are sorted: a stable encoding
	sum := sha256.Sum256(raw)
	return map[string]any{"resourceType": kind, "created": created, "lastModified": modified, "location": location,
		"version": `W/"` + hex.EncodeToString(sum[:12]) + `"`}
}

// selection is a request's attributes or excludedAttributes (RFC 7644
// 3.4.2.5), as lower-case paths without the schema's URN.
type selection struct {
	only, except map[string]bool
}

func parseSelection(v url.Values) (selection, error) {
	var s selection
	parse := func(raw string) map[string]bool {
		if raw == "" {
			return nil
		}
		m := map[string]bool{}
		for _, a := range strings.Split(raw, ",") {
			a = strings.ToLower(strings.TrimSpace(a))
			if i := strings.LastIndex(a, ":"); i >= 0 { // urn:…:User:name.givenName
				a = a[i+1:]
			}
			if a != "" {
				m[a] = true
			}
		}
		return m
	}
	s.only, s.except = parse(v.Get("attributes")), parse(v.Get("excludedAttributes"))
	if s.only != nil && s.except != nil {
		return s, fmt.Errorf("use attributes or excludedAttributes, not both")
	}
	return s, nil
}

// wants says whether the top-level attribute is returned.
func (s selection) wants(attr string) bool {
	attr = strings.ToLower(attr)
	if s.only != nil {
		for a := range s.only {
			if a == attr || strings.HasPrefix(a, attr+".") {
				return true
			}
		}
		return false
	}
	return !s.except[attr]
}

// apply keeps what was asked for; id and schemas are always returned.
func (s selection) apply(res map[string]any) map[string]any {
	if s.only == nil && s.except == nil {
		return res
	}
	out := map[string]any{}
	for k, v := range res {
		key := strings.ToLower(k)
		if key == "id" || key == "schemas" {
			out[k] = v
			continue
		}
		if s.only != nil {
			if s.only[key] {
				out[k] = v
			} else if sub, ok := v.(map[string]any); ok {
				if kept := pick(sub, key, s.only, true); len(kept) > 0 {
					out[k] = kept
				}
			}
			continue
		}
		if s.except[key] {
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			out[k] = pick(sub, key, s.except, false)
		} else {
			out[k] = v
		}
	}
	return out
}

// pick keeps (keep) or drops the sub-attributes of parent named in set.
func pick(sub map[string]any, parent string, set map[string]bool, keep bool) map[string]any {
	out := map[string]any{}
	for k, v := range sub {
		if set[parent+"."+strings.ToLower(k)] == keep {
			out[k] = v
		}
	}
	return out
}
