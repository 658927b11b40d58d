// Package accounts holds the local accounts that adsync keeps in step with
// the directories, and their SQLite store (owned by account-writer).
package accounts

import "github.com/adsync/adsync/events"

// Account is one local account: the object of `adsync accounts list
// --json`, of the API and of the account change feed.
type Account = events.Account

// Deactivators.
const (
	BySync  = "sync"
	ByLocal = "local"
)

// ListFilter selects accounts to list, in (domain, username, external_id)
// order.
type ListFilter struct {
	Domain string `json:"domain,omitempty"`
	// DriftOnly lists the accounts deactivated locally that the directory
	// still has enabled.
	DriftOnly bool `json:"drift_only,omitempty"`
	// After continues a listing after this key.
	AfterDomain   string `json:"after_domain,omitempty"`
	AfterUsername string `json:"after_username,omitempty"`
	AfterID       string `json:"after_id,omitempty"`
	Limit         int    `json:"limit,omitempty"`
}
