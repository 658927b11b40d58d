// Package accounts holds the local accounts that adsync keeps in step with
// the directories, and their SQLite store (owned by account-writer).
package accounts

// Account is one local account.
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
