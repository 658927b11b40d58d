package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// target is what a client needs to reach one test directory.
type target struct {
	Prefix        string // environment variable prefix
	Name, Type    string
	URL           string // ldaps://
	StartTLSURL   string // ldap:// (StartTLS)
	CAFile        string
	TLSServerName string
	BindDN        string
	PasswordFile  string
	BaseDN        string
}

func sambaTarget(dc *samba.DC) target {
	return target{Prefix: "ADSYNC_AD_", Name: "corp", Type: "active_directory", URL: dc.LDAPSURL,
		StartTLSURL: dc.StartTLSURL, CAFile: dc.CAFile, TLSServerName: dc.ServerName,
		BindDN: dc.BindDN, PasswordFile: dc.PasswordFile, BaseDN: dc.BaseDN}
}

func slapdTarget(s *slapd.Server) target {
	return target{Prefix: "ADSYNC_LDAP_", Name: "ldap", Type: "ldap", URL: s.LDAPSURL,
		StartTLSURL: s.LDAPURL, CAFile: s.CAFile, TLSServerName: s.ServerName,
		BindDN: s.BindDN, PasswordFile: s.PasswordFile, BaseDN: s.BaseDN}
}

// printTarget prints shell export lines or a YAML domain snippet (keys as
// in ldapdir.Config, with the password as a file).
func printTarget(w io.Writer, format string, t target) error {
	var err error
	if format == "yaml" {
		_, err = fmt.Fprintf(w, `- name: %s
  type: %s
  url: %s
  ca_file: %s
  tls_server_name: %s
  bind_dn: %s
  bind_password_file: %s
  base_dn: %s
`, q(t.Name), q(t.Type), q(t.URL), q(t.CAFile), q(t.TLSServerName), q(t.BindDN), q(t.PasswordFile), q(t.BaseDN))
		return err
	}
	for _, kv := range [][2]string{
		{"URL", t.URL}, {"STARTTLS_URL", t.StartTLSURL}, {"CA_FILE", t.CAFile},
		{"TLS_SERVER_NAME", t.TLSServerName}, {"BIND_DN", t.BindDN},
		{"BIND_PASSWORD_FILE", t.PasswordFile}, {"BASE_DN", t.BaseDN},
	} {
		if _, err = fmt.Fprintf(w, "export %s%s=%s\n", t.Prefix, kv[0], shellQuote(kv[1])); err != nil {
			return err
		}
	}
	return nil
}

// q quotes a YAML scalar (JSON strings are valid YAML).
func q(s string) string { return strconv.Quote(s) }

// shellQuote single-quotes s for sh.
func shellQuote(s string) string {
	out := "'"
	for _, r := range s {
		if r == '\'' {
			out += `'\''`
		} else {
			out += string(r)
		}
	}
	return out + "'"
}
