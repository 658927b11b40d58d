package ldapdir

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/adsync/adsync/events"
	"github.com/go-ldap/ldap/v3"
)

// userAccountControl ACCOUNTDISABLE.
const uacAccountDisable = 0x2

// mapper turns LDAP entries into events.DirectoryEntry for one Config.
type mapper struct {
	cfg   Config
	attrs []string // attributes to request
	// guidID formats a binary ID as an AD GUID (Active Directory only).
	guidID bool
	// cnFallback uses cn when displayName is empty (generic LDAP default).
	cnFallback bool
	now        time.Time
	// expiry: a delta read's part in account expiry, resolved (expiry.go).
	expiry expiryWatch
}

func newMapper(cfg Config) *mapper {
	a := cfg.Attributes
	m := &mapper{cfg: cfg, now: cfg.Now()}
	m.guidID = cfg.Type == ActiveDirectory
	m.cnFallback = cfg.Type == GenericLDAP && strings.EqualFold(a.DisplayName, "displayName")
	want := []string{a.ID, a.Username, a.UPN, a.Email, a.DisplayName, a.GivenName, a.Surname, a.Groups}
	if cfg.Type == ActiveDirectory {
		want = append(want, "userAccountControl", "accountExpires")
	}
	if m.cnFallback {
		want = append(want, "cn")
	}
	seen := map[string]bool{}
	for _, w := range want {
		if w != "" && !seen[strings.ToLower(w)] {
			seen[strings.ToLower(w)] = true
			m.attrs = append(m.attrs, w)
		}
	}
	return m
}

// entry maps e. groups holds the complete values of the groups attribute
// (see allValues). A non-empty skip reason means the entry must not be
// delivered; the returned entry then carries only its ID, if it has one.
// disabled forces Disabled (entry matched DisabledFilter). expires is when
// an active Active Directory user expires, if after the mapper's time
// (zero: never, or not active).
func (m *mapper) entry(e *ldap.Entry, groups []string, disabled bool) (d events.DirectoryEntry, expires time.Time, skip string) {
	a := m.cfg.Attributes
	id, reason := m.id(e)
	if reason != "" {
		return events.DirectoryEntry{}, time.Time{}, reason
	}
	username := first(e, a.Username)
	if username == "" {
		return events.DirectoryEntry{ID: id}, time.Time{}, "no " + a.Username
	}
	d = events.DirectoryEntry{
		ID:          id,
		DN:          e.DN,
		Username:    username,
		Email:       first(e, a.Email),
		DisplayName: first(e, a.DisplayName),
		GivenName:   first(e, a.GivenName),
		Surname:     first(e, a.Surname),
		Groups:      groups,
	}
	if a.UPN != "" {
		d.UPN = first(e, a.UPN)
	}
	if d.DisplayName == "" && m.cnFallback {
		d.DisplayName = first(e, "cn")
	}
	if disabled {
		d.Disabled, d.DisabledReason = true, events.ReasonDirectoryDisabled
	}
	if m.cfg.Type == ActiveDirectory && !d.Disabled {
		if expires, reason = m.adDisabled(e, &d); reason != "" {
			return events.DirectoryEntry{ID: id}, time.Time{}, reason
		}
	}
	return d, expires, ""
}

// id returns the entry's ID or a skip reason.
func (m *mapper) id(e *ldap.Entry) (string, string) {
	attr := m.cfg.Attributes.ID
	raw := e.GetEqualFoldRawAttributeValues(attr)
	switch {
	case len(raw) == 0 || len(raw[0]) == 0:
		return "", "no " + attr
	case len(raw) > 1:
		return "", fmt.Sprintf("%s has %d values", attr, len(raw))
	}
	v := raw[0]
	binaryGUID := strings.EqualFold(attr, "objectGUID") || strings.EqualFold(attr, "mS-DS-ConsistencyGuid")
	if m.guidID && (binaryGUID || (len(v) == 16 && !utf8.Valid(v))) {
		s, err := GUIDString(v)
		if err != nil {
			return "", err.Error()
		}
		return s, ""
	}
	if !utf8.Valid(v) {
		return "", attr + " is binary: configure a GUID or text id attribute"
	}
	return string(v), ""
}

// adDisabled applies userAccountControl and accountExpires to d, and
// returns when the user expires if it is active and expires after the
// mapper's time. It returns a skip reason when either cannot be parsed.
func (m *mapper) adDisabled(e *ldap.Entry, d *events.DirectoryEntry) (expires time.Time, skip string) {
	if v := first(e, "userAccountControl"); v != "" {
		uac, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Sprintf("userAccountControl %q is not a number", v)
		}
		if uac&uacAccountDisable != 0 {
			d.Disabled, d.DisabledReason = true, events.ReasonDirectoryDisabled
			return time.Time{}, ""
		}
	}
	exp, never, err := accountExpiry(first(e, "accountExpires"))
	switch {
	case err != nil:
		return time.Time{}, err.Error()
	case never:
		return time.Time{}, ""
	case !exp.After(m.now):
		d.Disabled, d.DisabledReason = true, events.ReasonExpired
		return time.Time{}, ""
	}
	return exp, ""
}

// first returns the first value of attr (case-insensitive name), or "".
func first(e *ldap.Entry, attr string) string {
	if attr == "" {
		return ""
	}
	if v := e.GetEqualFoldAttributeValues(attr); len(v) > 0 {
		return v[0]
	}
	return ""
}
