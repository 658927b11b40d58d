package events

// DirectoryEntry is one user as read from a directory, normalised across
// directory types (Active Directory, generic LDAP).
type DirectoryEntry struct {
	// ID is the directory's stable key: AD objectGUID in canonical string
	// form, entryUUID for generic LDAP (or the configured id attribute).
	ID          string `json:"id"`
	DN          string `json:"dn"`
	Username    string `json:"username"`
	UPN         string `json:"upn,omitempty"`
	Email       string `json:"email,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	GivenName   string `json:"given_name,omitempty"`
	Surname     string `json:"surname,omitempty"`
	// Groups are the DNs of the groups the user is a direct member of
	// (memberOf), as the directory returned them.
	Groups []string `json:"groups,omitempty"`
	// GroupRefs are the groups the user is a member of, directly or through
	// nested groups, within the job's group scope.
	GroupRefs []GroupRef `json:"group_refs,omitempty"`
	// Disabled is true when the directory says the account may not sign in.
	Disabled bool `json:"disabled,omitempty"`
	// DisabledReason says why: "directory-disabled" or "expired".
	DisabledReason string `json:"disabled_reason,omitempty"`
}

// GroupRef names a directory group.
type GroupRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	DN   string `json:"dn"`
}

// Reasons an account is inactive or was (re)activated.
const (
	ReasonDirectoryDisabled = "directory-disabled"
	ReasonDirectoryRemoved  = "directory-removed"
	ReasonOutOfScope        = "out-of-scope"
	ReasonExpired           = "expired"
	ReasonLocal             = "local"
	ReasonDirectoryEnabled  = "directory-enabled"
	ReasonDirectoryReturned = "directory-returned"
)
