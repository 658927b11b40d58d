package api

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"net/url"
	"strconv"
	"strings"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/services/account-writer/accounts"
)

// scimUser is an account as a SCIM User. Its id is domain:external_id;
// externalId the directory's objectGUID or entryUUID; userName the local
// name. Typed rather than a map: paging through users spent most of the
// api service's CPU encoding maps (sorted keys, reflection per value).
func scimUser(u accounts.SCIMUser, base string) (scimUserDoc, error) {
	groups, err := u.Groups()
	if err != nil {
		return scimUserDoc{}, fmt.Errorf("account-writer sent unreadable groups for %s: %w", u.LocalName, err)
	}
	id := u.Domain + ":" + u.ExternalID
	doc := scimUserDoc{Schemas: []string{scimUserSchema}, ID: id, ExternalID: u.ExternalID, UserName: u.LocalName, DisplayName: u.DisplayName,
		Name: scimName{GivenName: u.GivenName, FamilyName: u.Surname}, Active: u.Active, Groups: make([]scimRef, 0, len(groups))}
	if u.Email != "" {
		doc.Emails = []scimEmail{{Value: u.Email, Type: "work", Primary: true}}
	}
	v := newVersion(id, u.ExternalID, u.LocalName, u.DisplayName, u.GivenName, u.Surname, strconv.FormatBool(u.Active), u.Email, u.CreatedAt, u.UpdatedAt)
	for _, g := range groups {
		doc.Groups = append(doc.Groups, scimRef{Value: g.ID, Display: g.Name, Ref: base + "/Groups/" + url.PathEscape(g.ID), Type: "indirect"})
		v.add(g.ID, g.Name)
	}
	doc.Meta = scimMeta{ResourceType: "User", Created: u.CreatedAt, LastModified: u.UpdatedAt, Location: base + "/Users/" + url.PathEscape(id), Version: v.etag()}
	return doc, nil
}

// scimGroup is a group as a SCIM Group.
func scimGroup(g accounts.GroupRecord, base string, withMembers bool) scimGroupDoc {
	id := g.Domain + ":" + g.ExternalID
	doc := scimGroupDoc{Schemas: []string{scimGroupSchema}, ID: id, ExternalID: g.ExternalID, DisplayName: g.Name}
	v := newVersion(id, g.ExternalID, g.Name, g.UpdatedAt, strconv.FormatBool(withMembers))
	if withMembers {
		members := make([]scimRef, 0, len(g.Members))
		for _, m := range g.Members {
			members = append(members, scimRef{Value: m.ID, Display: m.LocalName, Ref: base + "/Users/" + url.PathEscape(m.ID), Type: "User"})
			v.add(m.ID, m.LocalName)
		}
		doc.Members = &members
	}
	doc.Meta = scimMeta{ResourceType: "Group", Created: g.UpdatedAt, LastModified: g.UpdatedAt, Location: base + "/Groups/" + url.PathEscape(id), Version: v.etag()}
	return doc
}

type scimUserDoc struct {
	Schemas     []string    `json:"schemas"`
	ID          string      `json:"id"`
	ExternalID  string      `json:"externalId"`
	UserName    string      `json:"userName"`
	DisplayName string      `json:"displayName"`
	Name        scimName    `json:"name"`
	Active      bool        `json:"active"`
	Emails      []scimEmail `json:"emails,omitempty"`
	Groups      []scimRef   `json:"groups"`
	Meta        scimMeta    `json:"meta"`
}

type scimGroupDoc struct {
	Schemas     []string   `json:"schemas"`
	ID          string     `json:"id"`
	ExternalID  string     `json:"externalId"`
	DisplayName string     `json:"displayName"`
	Members     *[]scimRef `json:"members,omitempty"` // nil: not asked for
	Meta        scimMeta   `json:"meta"`
}

type scimName struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
}

type scimEmail struct {
	Value   string `json:"value"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

type scimRef struct {
	Value   string `json:"value"`
	Display string `json:"display"`
	Ref     string `json:"$ref"`
	Type    string `json:"type"`
}

type scimMeta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
	Version      string `json:"version"`
}

// version is a weak ETag of a resource's content: a hash of its fields,
// each length-prefixed, so that no two contents share an encoding.
type version struct{ h hash.Hash }

func newVersion(fields ...string) version {
	v := version{sha256.New()}
	v.add(fields...)
	return v
}

func (v version) add(fields ...string) {
	var n [binary.MaxVarintLen64]byte
	for _, f := range fields {
		v.h.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
		v.h.Write([]byte(f))
	}
}

func (v version) etag() string { return `W/"` + hex.EncodeToString(v.h.Sum(nil)[:12]) + `"` }

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
// A resource is turned into a map only when attributes are selected.
func (s selection) apply(doc any) any {
	if s.only == nil && s.except == nil {
		return doc
	}
	res, err := asMap(doc)
	if err != nil {
		return doc
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

// asMap is a resource as a JSON object's map.
func asMap(doc any) (map[string]any, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(raw, &m)
}
