package natsapi

import "github.com/adsync/adsync/services/account-writer/accounts"

// Endpoint subjects.
const (
	SubjectAccountsList       = "adsync.api.accounts.list"
	SubjectAccountsGet        = "adsync.api.accounts.get"
	SubjectUsersQuery         = "adsync.api.users.query"
	SubjectSCIMUsers          = "adsync.api.scim.users"
	SubjectGroupsQuery        = "adsync.api.groups.query"
	SubjectAccountsDeactivate = "adsync.api.accounts.deactivate"
	SubjectAccountsReactivate = "adsync.api.accounts.reactivate"
	SubjectRunReport          = "adsync.api.runs.report"
	SubjectDirectoryLookup    = "adsync.api.directory.lookup"
)

// AccountRequest names an account (local name or domain/external_id) for
// a local hold; Reason is the administrator's words.
type AccountRequest struct {
	Ref    string `json:"ref"`
	Reason string `json:"reason,omitempty"`
	By     string `json:"by,omitempty"`
}

// RunReportRequest asks for a run's report, changes after a cursor.
type RunReportRequest struct {
	RunID string `json:"run_id"`
	After int64  `json:"after,omitempty"`
	Limit int    `json:"limit,omitempty"`
	// Op lists only the changes of one kind (create, update, deactivate,
	// reactivate).
	Op string `json:"op,omitempty"`
}

// LookupRequest asks a job server to find ids in a domain's directory.
type LookupRequest struct {
	Domain string   `json:"domain"`
	IDs    []string `json:"ids"`
}

// LookupResponse maps each id found to its DN; InScope lists those found
// inside the sync's scope (base_dn and user_filter), which a complete read
// missed because they changed meanwhile: not gone.
type LookupResponse struct {
	Found   map[string]string `json:"found"`
	InScope []string          `json:"in_scope,omitempty"`
}

// AccountsListRequest asks account-writer for a page of accounts.
type AccountsListRequest = accounts.ListFilter

// AccountsListResponse is a page of accounts; More says whether to ask for
// the next page (after the last account). FeedSeq is the account change
// feed's last change when the page was read: the page holds every change
// up to it. A snapshot read in pages follows the feed from its first
// page's FeedSeq+1 (changes the later pages hold already come again, with
// the whole account).
type AccountsListResponse struct {
	Accounts []accounts.Account `json:"accounts"`
	More     bool               `json:"more"`
	FeedSeq  int64              `json:"feed_seq"`
}
