package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/internal/testenv/slapd"
)

type scimList struct {
	TotalResults int              `json:"totalResults"`
	StartIndex   int              `json:"startIndex"`
	ItemsPerPage int              `json:"itemsPerPage"`
	Resources    []map[string]any `json:"Resources"`
}

type scimErr struct {
	Status   string `json:"status"`
	ScimType string `json:"scimType"`
	Detail   string `json:"detail"`
}

// The SCIM 2.0 endpoint over a real sync of slapd: users and groups as
// a platform's provisioning client reads them, every filter operator,
// paging with totalResults, attribute selection, ETags, and an error for
// each bad request and for every write.
func TestSCIMServesTheSyncedUsersAndGroups(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(5))
	alice := openldap.AddUser(t, slapd.User{UID: "alice", GivenName: "Alice", Surname: "Smith", DisplayName: "Alice Smith", Mail: "Alice.Smith@Example.org"})
	bob := openldap.AddUser(t, slapd.User{UID: "bob", GivenName: "Bob", Surname: "Jones", Mail: "bob@example.org"})
	openldap.AddUser(t, slapd.User{UID: "carol", GivenName: "Carol", Surname: "Smithers"})
	openldap.AddGroup(t, "Staff", alice, bob)
	secret := strings.Repeat("sc1m", 8)
	listen := freeAddr(t)
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithConfig(fmt.Sprintf("http:\n  listen: %s\n  tokens:\n    - name: platform\n      token_file: %s\n      role: viewer\n",
		listen, writeSecret(t, filepath.Join(t.TempDir(), "token"), secret))))
	sys.MustCLI("job", "create", "lab-sync", "--all-domains")
	sys.MustComplete("lab-sync")
	c := apiClient{t, "http://" + listen, secret}

	users := func(query string) scimList {
		t.Helper()
		var l scimList
		c.want(http.StatusOK, "GET", "/scim/v2/Users?"+query, "", &l)
		return l
	}
	names := func(l scimList) string {
		var out []string
		for _, r := range l.Resources {
			out = append(out, strings.TrimSuffix(r["userName"].(string), "@lab"))
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	all := users("")
	if all.TotalResults != 8 || len(all.Resources) != 8 || all.StartIndex != 1 {
		t.Fatalf("all users: total %d, %d resources", all.TotalResults, len(all.Resources))
	}
	var aliceRes map[string]any
	for _, r := range all.Resources {
		if r["userName"] == "alice@lab" {
			aliceRes = r
		}
	}
	aliceID := aliceRes["id"].(string)
	if aliceRes["externalId"] != openldap.EntryUUID(t, alice) || aliceID != "lab:"+openldap.EntryUUID(t, alice) || aliceRes["active"] != true ||
		aliceRes["name"].(map[string]any)["familyName"] != "Smith" || aliceRes["emails"].([]any)[0].(map[string]any)["value"] != "Alice.Smith@Example.org" {
		t.Fatalf("alice: %v", aliceRes)
	}
	groups := aliceRes["groups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["display"] != "Staff" {
		t.Fatalf("alice's groups: %v", groups)
	}
	meta := aliceRes["meta"].(map[string]any)
	if meta["resourceType"] != "User" || !strings.HasSuffix(meta["location"].(string), "/scim/v2/Users/"+url.PathEscape(aliceID)) || meta["version"] == "" {
		t.Fatalf("alice's meta: %v", meta)
	}

	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct{ filter, want string }{
		{`userName eq "ALICE@lab"`, "alice"}, // caseExact false
		{`userName ne "alice@lab" and userName sw "user"`, "user0000001,user0000002,user0000003,user0000004,user0000005"},
		{`userName co "ob"`, "bob"},
		{`userName ew "0005@lab"`, "user0000005"},
		{`externalId eq "` + openldap.EntryUUID(t, bob) + `"`, "bob"},
		{`externalId eq "` + strings.ToUpper(openldap.EntryUUID(t, bob)) + `"`, ""}, // caseExact
		{`emails.value co ".SMITH@"`, "alice"},
		{`emails[value sw "alice"]`, "alice"},
		{`not (emails pr) or name.familyName eq "Jones"`, "bob,carol"},
		{`name.familyName sw "smith"`, "alice,carol"},
		{`displayName eq "Alice Smith" or name.givenName eq "Carol"`, "alice,carol"},
		{`active eq true and groups.display eq "Staff"`, "alice,bob"},
		{`active eq false`, ""},
		{`meta.lastModified gt "` + past + `" and userName sw "a"`, "alice"},
		{`meta.lastModified ge "` + future + `"`, ""},
		{`meta.created lt "` + future + `" and userName le "b"`, "alice"},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "carol@lab"`, "carol"},
	} {
		if got := names(users("filter=" + url.QueryEscape(tc.filter))); got != tc.want {
			t.Errorf("filter %s: %q, want %q", tc.filter, got, tc.want)
		}
	}

	// Paging: startIndex and count, totalResults the whole match; every
	// user once, in order, however many pages the api reads ahead (each
	// after the page before it, in account-writer).
	var inOrder []string
	for _, r := range all.Resources {
		inOrder = append(inOrder, r["userName"].(string))
	}
	for _, count := range []int{3, 1, 2} {
		var paged []string
		for start := 1; start <= 8; start += count {
			l := users(fmt.Sprintf("startIndex=%d&count=%d", start, count))
			if l.TotalResults != 8 || l.StartIndex != start || l.ItemsPerPage != len(l.Resources) {
				t.Fatalf("count %d, page at %d: %+v", count, start, l)
			}
			for _, r := range l.Resources {
				paged = append(paged, r["userName"].(string))
			}
		}
		if strings.Join(paged, ",") != strings.Join(inOrder, ",") {
			t.Fatalf("count %d: paged %v, want %v", count, paged, inOrder)
		}
	}
	if l := users("count=0"); l.TotalResults != 8 || len(l.Resources) != 0 {
		t.Fatalf("count=0: %+v", l)
	}
	if l := users("startIndex=20"); l.TotalResults != 8 || len(l.Resources) != 0 {
		t.Fatalf("past the end: %+v", l)
	}

	// Attribute selection; id and schemas always come.
	sel := users("filter=" + url.QueryEscape(`userName eq "alice@lab"`) + "&attributes=userName,name.givenName")
	if r := sel.Resources[0]; len(r) != 4 || r["id"] != aliceID || r["name"].(map[string]any)["givenName"] != "Alice" || r["name"].(map[string]any)["familyName"] != nil {
		t.Fatalf("attributes: %v", r)
	}
	sel = users("filter=" + url.QueryEscape(`userName eq "alice@lab"`) + "&excludedAttributes=groups,emails,meta")
	if r := sel.Resources[0]; r["groups"] != nil || r["emails"] != nil || r["meta"] != nil || r["userName"] != "alice@lab" {
		t.Fatalf("excludedAttributes: %v", r)
	}

	// One user, its ETag, If-None-Match.
	status, h, _ := c.do("GET", "/scim/v2/Users/"+url.PathEscape(aliceID), "")
	if status != http.StatusOK || h.Get("ETag") != meta["version"] || h.Get("Content-Type") != "application/scim+json" {
		t.Fatalf("GET alice: %d, ETag %q (meta %q), %q", status, h.Get("ETag"), meta["version"], h.Get("Content-Type"))
	}
	req, _ := http.NewRequest("GET", c.base+"/scim/v2/Users/"+url.PathEscape(aliceID), nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("If-None-Match", h.Get("ETag"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %v %v", resp, err)
	}
	// A change to alice in the directory changes her version.
	openldap.Modify(t, alice, "mail", "alice@new.example.org")
	sys.MustComplete("lab-sync")
	if _, h2, _ := c.do("GET", "/scim/v2/Users/"+url.PathEscape(aliceID), ""); h2.Get("ETag") == h.Get("ETag") {
		t.Fatal("the ETag did not change with the user")
	}

	// Groups, with their members.
	var gl scimList
	c.want(http.StatusOK, "GET", "/scim/v2/Groups?filter="+url.QueryEscape(`displayName eq "staff"`), "", &gl)
	if gl.TotalResults != 1 || len(gl.Resources[0]["members"].([]any)) != 2 {
		t.Fatalf("groups: %+v", gl)
	}
	var g map[string]any
	c.want(http.StatusOK, "GET", "/scim/v2/Groups/"+url.PathEscape(gl.Resources[0]["id"].(string))+"?excludedAttributes=members", "", &g)
	if g["displayName"] != "Staff" || g["members"] != nil {
		t.Fatalf("group: %v", g)
	}

	// Discovery.
	var spc map[string]any
	c.want(http.StatusOK, "GET", "/scim/v2/ServiceProviderConfig", "", &spc)
	if spc["filter"].(map[string]any)["supported"] != true || spc["patch"].(map[string]any)["supported"] != false {
		t.Fatalf("ServiceProviderConfig: %v", spc)
	}
	for _, p := range []string{"/scim/v2/ResourceTypes", "/scim/v2/Schemas"} {
		var l scimList
		c.want(http.StatusOK, "GET", p, "", &l)
		if l.TotalResults != 2 {
			t.Fatalf("%s: %+v", p, l)
		}
	}

	// Errors, each with its SCIM error.
	for _, tc := range []struct {
		method, path string
		status       int
		scimType     string
	}{
		{"GET", "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq`), 400, "invalidFilter"},
		{"GET", "/scim/v2/Users?filter=" + url.QueryEscape(`shoeSize gt 40`), 400, "invalidFilter"},
		{"GET", "/scim/v2/Users?filter=" + url.QueryEscape(`active eq "yes"`), 400, "invalidFilter"},
		{"GET", "/scim/v2/Users?filter=" + url.QueryEscape(`meta.lastModified gt "yesterday"`), 400, "invalidFilter"},
		{"GET", "/scim/v2/Users?startIndex=one", 400, "invalidValue"},
		{"GET", "/scim/v2/Users?attributes=userName&excludedAttributes=emails", 400, "invalidValue"},
		{"GET", "/scim/v2/Users/lab:no-such-id", 404, ""},
		{"GET", "/scim/v2/Groups/nonsense", 404, ""},
		{"POST", "/scim/v2/Users", 501, "mutability"},
		{"PUT", "/scim/v2/Users/" + aliceID, 501, "mutability"},
		{"PATCH", "/scim/v2/Users/" + aliceID, 501, "mutability"},
		{"DELETE", "/scim/v2/Users/" + aliceID, 501, "mutability"},
		{"DELETE", "/scim/v2/Groups/x", 501, "mutability"},
	} {
		var e scimErr
		c.want(tc.status, tc.method, tc.path, `{"userName": "mallory"}`, &e)
		if e.Status != fmt.Sprint(tc.status) || e.ScimType != tc.scimType || e.Detail == "" {
			t.Errorf("%s %s: %+v", tc.method, tc.path, e)
		}
	}
	if n := len(users("filter=" + url.QueryEscape(`userName eq "mallory"`)).Resources); n != 0 {
		t.Fatal("a SCIM write created a user")
	}
	for _, anon := range []apiClient{{t, c.base, ""}, {t, c.base, strings.Repeat("z", 32)}} {
		if status, _, _ := anon.do("GET", "/scim/v2/Users", ""); status != http.StatusUnauthorized {
			t.Fatalf("SCIM without a valid token: %d", status)
		}
	}
}
