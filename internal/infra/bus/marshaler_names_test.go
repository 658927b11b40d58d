package bus

import "testing"

func TestNameFromSubject(t *testing.T) {
	for _, c := range []struct{ subject, want string }{
		{"adsync.sync.requested.v1", "sync.requested.v1"},
		{"adsync.account.changes.v1", "account.changes.v1"},
		{"adsync.account.changed.v1.corp", "account.changed.v1"},
		{"adsync.account.changed.v1.lab-2", "account.changed.v1"},
		{"adsync.api.accounts.list", "api.accounts.list"},
		{"adsync.deadletter.diff-directory-page", "deadletter.diff-directory-page"},
		{"adsync.directory.page.v12", "directory.page.v12"},
	} {
		if got := NameFromSubject(c.subject); got != c.want {
			t.Errorf("NameFromSubject(%q) = %q, want %q", c.subject, got, c.want)
		}
	}
}
