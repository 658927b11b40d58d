package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/encoding/json"
)

// The API and SCIM figures (issue 19): once a case's runs are done, the
// bench starts `adsync serve api` beside the five services and measures
// what a platform and an administrator do over HTTP: page through every
// user, and filtered lookups and the console's account search under
// apiClients concurrent clients.

const (
	apiClients     = 20
	apiPerClient   = 50 // requests of each kind per client
	apiPageCount   = 1000
	apiConsoleUser = "bench-console"
)

// apiResult is what the API phase measured for one case.
type apiResult struct {
	SCIMPaging apiPaging
	RESTPaging apiPaging
	Lookups    []apiLookup
}

type apiPaging struct {
	Users int
	Time  time.Duration
}

func (p apiPaging) perSecond() float64 {
	if p.Time <= 0 {
		return 0
	}
	return float64(p.Users) / p.Time.Seconds()
}

// apiLookup is one kind of request sent apiClients × apiPerClient times.
type apiLookup struct {
	Name          string
	Requests      int
	P50, P99, Max time.Duration
}

// apiBench talks to one api service.
type apiBench struct {
	base, token string
	client      *http.Client
}

// apiToken is the bench's viewer token (written before the config names
// it: the services check that it can be read).
func apiToken(dir string) (string, error) {
	path := filepath.Join(dir, "api.token")
	tok := fmt.Sprintf("bench-%016x%016x", rand.Uint64(), rand.Uint64())
	return path, os.WriteFile(path, []byte(tok+"\n"), 0o600)
}

// measureAPI starts the api service, measures, and stops it.
func measureAPI(ctx context.Context, o *options, sys *system, d *directory) (*apiResult, error) {
	tokenRaw, err := os.ReadFile(filepath.Join(sys.dir, "api.token"))
	if err != nil {
		return nil, err
	}
	password := fmt.Sprintf("pw-%016x", rand.Uint64())
	add := exec.Command(o.adsync, "admin", "add", apiConsoleUser, "--role", "viewer", "-c", sys.cfgPath)
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("adsync admin add: %w: %s", err, strings.TrimSpace(string(out)))
	}
	if !o.layout.oneProcess { // `adsync run` serves the api already
		api, err := startAPI(ctx, o, sys, d)
		if err != nil {
			return nil, err
		}
		defer func() {
			_ = api.stop(15 * time.Second)
			children.remove(api)
		}()
	}
	b := &apiBench{base: "http://" + sys.apiListen, token: strings.TrimSpace(string(tokenRaw)),
		client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * apiClients}}}
	res := &apiResult{}
	logf("N=%d: API: paging through every user with SCIM (count=%d) and REST (limit=%d)", d.N, apiPageCount, apiPageCount)
	since := time.Now().UTC() // nothing changes from here on: "what changed since my last poll" finds nothing
	ids, err := b.pageSCIM(ctx, d.N, &res.SCIMPaging)
	if err != nil {
		return nil, err
	}
	if err := b.pageREST(ctx, d.N, &res.RESTPaging); err != nil {
		return nil, err
	}
	console, err := b.signIn(ctx, apiConsoleUser, password)
	if err != nil {
		return nil, err
	}
	scim := func(filter string, want int) func(context.Context, *rand.Rand) error {
		return func(ctx context.Context, _ *rand.Rand) error { return b.scimCount(ctx, filter, want) }
	}
	kinds := []struct {
		name string
		req  func(context.Context, *rand.Rand) error
	}{
		{"SCIM `userName eq`", func(ctx context.Context, rng *rand.Rand) error {
			return scim(fmt.Sprintf(`userName eq "user%07d@bench"`, 1+rng.IntN(d.N)), 1)(ctx, rng)
		}},
		{"SCIM `externalId eq`", func(ctx context.Context, rng *rand.Rand) error {
			return scim(fmt.Sprintf(`externalId eq %q`, ids[rng.IntN(len(ids))]), 1)(ctx, rng)
		}},
		{"SCIM `meta.lastModified gt` (since the last poll)", scim(`meta.lastModified gt "`+since.Format(time.RFC3339Nano)+`"`, 0)},
		{"console account search (beginning of a name)", func(ctx context.Context, rng *rand.Rand) error {
			return b.consoleSearch(ctx, console, fmt.Sprintf("user%05d", rng.IntN(max(1, d.N/100))))
		}},
	}
	for _, k := range kinds {
		logf("N=%d: API: %s, %d clients × %d requests", d.N, k.name, apiClients, apiPerClient)
		l, err := concurrently(ctx, k.name, k.req)
		if err != nil {
			return nil, err
		}
		res.Lookups = append(res.Lookups, l)
	}
	return res, nil
}

// concurrently sends apiClients × apiPerClient requests and returns their
// latencies' percentiles.
func concurrently(ctx context.Context, name string, req func(context.Context, *rand.Rand) error) (apiLookup, error) {
	var mu sync.Mutex
	var took []time.Duration
	var first error
	var wg sync.WaitGroup
	for c := range apiClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 19))
			for range apiPerClient {
				t0 := time.Now()
				err := req(ctx, rng)
				d := time.Since(t0)
				mu.Lock()
				took = append(took, d)
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return apiLookup{}, fmt.Errorf("%s: %w", name, first)
	}
	slices.Sort(took)
	at := func(p float64) time.Duration { return took[min(len(took)-1, int(p*float64(len(took))))] }
	return apiLookup{Name: name, Requests: len(took), P50: at(0.50), P99: at(0.99), Max: took[len(took)-1]}, nil
}

func (b *apiBench) get(ctx context.Context, c *http.Client, path string, auth bool, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	if err != nil {
		return err
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, raw)
	}
	buf := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if s, ok := into.(*string); ok {
		*s = buf.String()
		return nil
	}
	return json.Unmarshal(buf.Bytes(), into)
}

// bodies keeps the buffers responses are read into. The bench shares two
// cores with what it measures: json.Decoder parsed each 0.5 MB page of
// users three times as its buffer grew, and fresh buffers kept the
// runtime returning memory to the OS; the bench's CPU was as much as the
// api service's while paging.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

type scimList struct {
	TotalResults int `json:"totalResults"`
	Resources    []struct {
		ExternalID string `json:"externalId"`
	} `json:"Resources"`
}

// pageSCIM pages through every user and returns every 97th external id.
func (b *apiBench) pageSCIM(ctx context.Context, n int, p *apiPaging) ([]string, error) {
	var ids []string
	t0 := time.Now()
	for start := 1; ; start += apiPageCount {
		var l scimList
		if err := b.get(ctx, b.client, fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=%d", start, apiPageCount), true, &l); err != nil {
			return nil, err
		}
		if l.TotalResults != n {
			return nil, fmt.Errorf("SCIM paging: totalResults %d, want %d", l.TotalResults, n)
		}
		for i, r := range l.Resources {
			if (p.Users+i)%97 == 0 {
				ids = append(ids, r.ExternalID)
			}
		}
		p.Users += len(l.Resources)
		if len(l.Resources) < apiPageCount {
			break
		}
	}
	p.Time = time.Since(t0)
	if p.Users != n {
		return nil, fmt.Errorf("SCIM paging: %d users, want %d", p.Users, n)
	}
	return ids, nil
}

// pageREST pages through every account with the REST API's cursor.
func (b *apiBench) pageREST(ctx context.Context, n int, p *apiPaging) error {
	t0 := time.Now()
	cursor := ""
	for {
		var page struct {
			Accounts []json.RawMessage `json:"accounts"`
			Next     string            `json:"next"`
		}
		path := "/api/v1/accounts?limit=" + strconv.Itoa(apiPageCount)
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := b.get(ctx, b.client, path, true, &page); err != nil {
			return err
		}
		p.Users += len(page.Accounts)
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	p.Time = time.Since(t0)
	if p.Users != n {
		return fmt.Errorf("REST paging: %d accounts, want %d", p.Users, n)
	}
	return nil
}

// scimCount asks for a filter's first page and checks how many match.
func (b *apiBench) scimCount(ctx context.Context, filter string, want int) error {
	var l scimList
	if err := b.get(ctx, b.client, "/scim/v2/Users?count=100&filter="+url.QueryEscape(filter), true, &l); err != nil {
		return err
	}
	if l.TotalResults != want {
		return fmt.Errorf("%s: %d users, want %d", filter, l.TotalResults, want)
	}
	return nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs in to the console as a browser does and returns a client
// holding the session.
func (b *apiBench) signIn(ctx context.Context, name, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute, Transport: b.client.Transport}
	var page string
	if err := b.get(ctx, c, "/signin", false, &page); err != nil {
		return nil, err
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return nil, errors.New("console: no CSRF field on the sign-in page")
	}
	resp, err := c.PostForm(b.base+"/signin", url.Values{"csrf": {m[1]}, "name": {name}, "password": {password}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if err := b.get(ctx, c, "/accounts", false, &page); err != nil || !strings.Contains(page, "Sign out") {
		return nil, fmt.Errorf("console: sign-in as %s did not give a session (%v)", name, err)
	}
	return c, nil
}

// consoleSearch is the console's account search, as its form sends it.
func (b *apiBench) consoleSearch(ctx context.Context, c *http.Client, q string) error {
	var page string
	if err := b.get(ctx, c, "/accounts?q="+url.QueryEscape(q), false, &page); err != nil {
		return err
	}
	if !regexp.MustCompile(regexp.QuoteMeta(q) + `\d+@bench`).MatchString(page) {
		return fmt.Errorf("console search %q: no account in the answer", q)
	}
	return nil
}

// startAPI starts `adsync serve api` beside the five services.
func startAPI(ctx context.Context, o *options, sys *system, d *directory) (*child, error) {
	args := []string{o.adsync, "serve", "api", "-c", sys.cfgPath}
	if o.profileDir != "" && o.profileOK {
		base := filepath.Join(o.profileDir, fmt.Sprintf("n%d-api", d.N))
		args = append(args, "--cpuprofile", base+".cpu", "--memprofile", base+".mem")
	}
	api, err := children.start("api", filepath.Join(sys.dir, "logs", "api.log"), args, nil)
	if err != nil {
		return nil, err
	}
	if err := waitLog(ctx, api, "HTTP API listening", 60*time.Second); err != nil {
		_ = api.stop(15 * time.Second)
		children.remove(api)
		return nil, err
	}
	return api, nil
}
