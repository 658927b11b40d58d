package config

import (
	"errors"

	"github.com/adsync/adsync/internal/ldapdir"
)

// Directory is the domain's directory settings with the given password.
func (d Domain) Directory(password string) ldapdir.Config {
	return ldapdir.Config{
		Name: d.Name, Type: ldapdir.Type(d.Type), URL: d.URL, CAFile: d.CAFile, TLSServerName: d.TLSServerName,
		InsecurePlaintext: d.InsecurePlaintext, BindDN: d.BindDN, BindPassword: password, BaseDN: d.BaseDN,
		UserFilter: d.UserFilter, DisabledFilter: d.DisabledFilter,
		GroupBaseDN: d.GroupBaseDN, GroupFilter: d.GroupFilter, LookupBaseDN: d.LookupBaseDN,
		FullEvery: d.FullSyncEvery.D(), FullAfterDeltas: d.FullSyncAfter, DeltaOverlap: d.DeltaOverlap.D(), PageSize: d.PageSize, Timeout: d.Timeout.D(),
		Attributes: ldapdir.Attributes{
			ID: d.Attributes.ID, Username: d.Attributes.Username, UPN: d.Attributes.UPN, Email: d.Attributes.Email,
			DisplayName: d.Attributes.DisplayName, GivenName: d.Attributes.GivenName, Surname: d.Attributes.Surname,
			Groups: d.Attributes.Groups,
		},
	}
}

// Directories reads every domain's bind password and returns the directory
// settings, or every problem found.
func (f *File) Directories(env Env) ([]ldapdir.Config, error) {
	var out []ldapdir.Config
	var errs []error
	for _, d := range f.Domains {
		pw, err := d.BindPasswordValue(env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, d.Directory(pw))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
