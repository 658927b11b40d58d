package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/natsapi"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// The SCIM 2.0 service provider (RFC 7643, 7644): read-only, since the
// directory is the source of truth. Users are the accounts adsync keeps,
// Groups their groups. Filters are translated to SQL by account-writer
// (internal/accounts, parsed by scim2/filter-parser); this file speaks
// the protocol.

const (
	scimUserSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimListSchema  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"
	scimMaxResults  = 1000
)

func (s *Service) scimRoutes(r chi.Router) {
	viewer := require(RoleViewer)
	r.With(viewer).Get("/Users", s.scimList(false))
	r.With(viewer).Get("/Users/{id}", s.scimGet(false))
	r.With(viewer).Get("/Groups", s.scimList(true))
	r.With(viewer).Get("/Groups/{id}", s.scimGet(true))
	r.With(viewer).Get("/ServiceProviderConfig", scimServiceProviderConfig)
	r.With(viewer).Get("/ResourceTypes", scimResourceTypes)
	r.With(viewer).Get("/Schemas", scimSchemas)
	for _, p := range []string{"/Users", "/Groups"} {
		r.With(viewer).Post(p, scimReadOnly)
		for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
			r.With(viewer).Method(m, p+"/{id}", http.HandlerFunc(scimReadOnly))
		}
	}
}

type scimError struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail"`
}

func writeSCIMError(w http.ResponseWriter, status int, scimType, detail string) {
	writeSCIM(w, status, scimError{Schemas: []string{scimErrorSchema}, Status: strconv.Itoa(status), ScimType: scimType, Detail: detail})
}

func writeSCIM(w http.ResponseWriter, status int, v any) {
	scimHeaders(w)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func scimHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.Header().Set("Cache-Control", "no-store")
}

// scimReadOnly answers every write.
func scimReadOnly(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "GET")
	writeSCIMError(w, http.StatusNotImplemented, "mutability",
		"adsync's SCIM endpoint is read-only: the directory is the source of truth. Change the user or group in Active Directory or LDAP; the next sync brings the change here")
}

// scimRequestErr answers an error from account-writer: a filter it cannot
// answer is invalidFilter; NATS trouble is 502.
func scimRequestErr(w http.ResponseWriter, err error) {
	var re *natsapi.RemoteError
	if errors.As(err, &re) && re.Code == "400" {
		writeSCIMError(w, http.StatusBadRequest, "invalidFilter", re.Message)
		return
	}
	writeSCIMError(w, http.StatusBadGateway, "", err.Error())
}

type scimListResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

// scimList is GET /Users and /Groups: filter, startIndex, count,
// attributes, excludedAttributes.
func (s *Service) scimList(groups bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		q := accounts.Query{Filter: v.Get("filter"), StartIndex: 1, Count: 100}
		for _, p := range []struct {
			name string
			dst  *int
			min  int
		}{{"startIndex", &q.StartIndex, 1}, {"count", &q.Count, 0}} {
			if raw := v.Get(p.name); raw != "" {
				n, err := strconv.Atoi(raw)
				if err != nil {
					writeSCIMError(w, http.StatusBadRequest, "invalidValue", p.name+" must be a whole number")
					return
				}
				*p.dst = max(n, p.min) // RFC 7644 3.4.2.4: smaller values are read as the least
			}
		}
		q.Count = min(q.Count, scimMaxResults)
		sel, err := parseSelection(v)
		if err != nil {
			writeSCIMError(w, http.StatusBadRequest, "invalidValue", err.Error())
			return
		}
		out := scimListResponse{Schemas: []string{scimListSchema}, StartIndex: q.StartIndex, Resources: []any{}}
		base := baseURL(r)
		if groups {
			q.Members = sel.wants("members")
			page, err := natsapi.Request[accounts.GroupPage](r.Context(), s.ops.NC, natsapi.SubjectGroupsQuery, "account-writer", q)
			if err != nil {
				scimRequestErr(w, err)
				return
			}
			out.TotalResults = page.Total
			for _, g := range page.Groups {
				out.Resources = append(out.Resources, sel.apply(scimGroup(g, base, q.Members)))
			}
		} else {
			page, err := s.ahead.users(r.Context(), client(r.Context()).Name, q)
			if err != nil {
				scimRequestErr(w, err)
				return
			}
			out.TotalResults = page.Total
			for _, u := range page.Users {
				doc, err := scimUser(u, base)
				if err != nil {
					writeSCIMError(w, http.StatusBadGateway, "", err.Error())
					return
				}
				out.Resources = append(out.Resources, sel.apply(doc))
			}
		}
		out.ItemsPerPage = len(out.Resources)
		writeSCIMList(w, out)
	}
}

// scimGet is GET /Users/{id} and /Groups/{id}, with an ETag; If-None-Match
// with the current version answers 304.
func (s *Service) scimGet(groups bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		sel, err := parseSelection(r.URL.Query())
		if err != nil {
			writeSCIMError(w, http.StatusBadRequest, "invalidValue", err.Error())
			return
		}
		q := accounts.Query{Filter: "id eq " + accounts.FilterString(id), StartIndex: 1, Count: 1, Members: true}
		var res any
		var version string
		if groups {
			page, err := natsapi.Request[accounts.GroupPage](r.Context(), s.ops.NC, natsapi.SubjectGroupsQuery, "account-writer", q)
			if err != nil {
				scimRequestErr(w, err)
				return
			}
			if len(page.Groups) == 1 {
				doc := scimGroup(page.Groups[0], baseURL(r), true)
				res, version = doc, doc.Meta.Version
			}
		} else {
			page, err := natsapi.Request[accounts.SCIMUserPage](r.Context(), s.ops.NC, natsapi.SubjectSCIMUsers, "account-writer", q)
			if err != nil {
				scimRequestErr(w, err)
				return
			}
			if len(page.Users) == 1 {
				doc, err := scimUser(page.Users[0], baseURL(r))
				if err != nil {
					writeSCIMError(w, http.StatusBadGateway, "", err.Error())
					return
				}
				res, version = doc, doc.Meta.Version
			}
		}
		if res == nil {
			writeSCIMError(w, http.StatusNotFound, "", "no resource with id "+id)
			return
		}
		w.Header().Set("ETag", version)
		if match := r.Header.Get("If-None-Match"); match != "" && (match == version || match == "*") {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeSCIM(w, http.StatusOK, sel.apply(res))
	}
}

// baseURL is the scheme and host the client used.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/scim/v2"
}
