package events

import (
	"strconv"
	"time"
)

// Account is one local account, as account-writer keeps it: the object of
// `adsync accounts list --json`, of the API and of account.changed.v1.
type Account struct {
	Domain      string `json:"domain"`
	ExternalID  string `json:"external_id"`
	Username    string `json:"username"`
	LocalName   string `json:"local_name"`
	UPN         string `json:"upn"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	GivenName   string `json:"given_name"`
	Surname     string `json:"surname"`
	DN          string `json:"dn"`
	// Groups are the names of the account's groups (nested resolved).
	Groups         []string `json:"groups"`
	Active         bool     `json:"active"`
	InactiveReason string   `json:"inactive_reason,omitempty"`
	// DeactivatedBy is "sync" or "local" (an administrator).
	DeactivatedBy string `json:"deactivated_by,omitempty"`
	LocalNote     string `json:"local_note,omitempty"`
	// DirectoryActive is the directory's own state of the account.
	DirectoryActive bool   `json:"directory_active"`
	CreatedAt       string `json:"created_at"`
	UpdatedAt       string `json:"updated_at"`
	DeactivatedAt   string `json:"deactivated_at,omitempty"`
	LastRunID       string `json:"last_run_id,omitempty"`
}

// Account change kinds (AccountChanged.Change).
const (
	ChangeCreated     = "created"
	ChangeUpdated     = "updated"
	ChangeDeactivated = "deactivated"
	ChangeReactivated = "reactivated"
	ChangeHoldSet     = "hold-set"
	ChangeHoldLifted  = "hold-lifted"
)

// AccountChanged is one change account-writer committed to an account, in
// commit order: the account change feed, on the subject
// adsync.account.changed.v1.<domain> of the stream ADSYNC_ACCOUNTS.
// account-writer writes it to an outbox in the transaction of the change
// and relays it with Seq as message id: a change is published once, and
// only once it is committed.
type AccountChanged struct {
	// Seq numbers the feed from 1, without gaps, in commit order.
	Seq    int64  `json:"seq"`
	Domain string `json:"domain"`
	// Change is created, updated, deactivated, reactivated, hold-set or
	// hold-lifted.
	Change string `json:"change"`
	// Fields names the account fields the change set (diff's names:
	// username, email, dn, groups, active, …).
	Fields []string `json:"fields,omitempty"`
	// Reason: why an account is inactive (deactivated, hold-set) or was
	// reactivated.
	Reason string `json:"reason,omitempty"`
	// Joined and Left name the groups whose membership the change gained
	// and lost.
	Joined []string `json:"joined,omitempty"`
	Left   []string `json:"left,omitempty"`
	// RunID is the run that made the change; empty for a local hold.
	RunID string `json:"run_id,omitempty"`
	// Actor made the change: "sync", or the administrator of a local hold.
	Actor string `json:"actor"`
	// Account is the whole account after the change.
	Account Account   `json:"account"`
	At      time.Time `json:"at"`
}

func (AccountChanged) EventName() string { return "account.changed.v1" }
func (e AccountChanged) MessageID() string {
	return "account.changed.v1:" + strconv.FormatInt(e.Seq, 10)
}
func (e AccountChanged) DomainName() string { return e.Domain }

// FeedSubject is the subject of a domain's account changes.
func FeedSubject(domain string) string {
	return SubjectOf((AccountChanged{}).EventName()) + "." + domain
}
