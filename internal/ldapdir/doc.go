// Package ldapdir is adsync's one way of talking to a directory: it builds
// the TLS configuration, dials and binds (LDAPS, or StartTLS on ldap://),
// and streams users page by page (RFC 2696 paged results) as
// events.DirectoryEntry values, for Active Directory and generic LDAP
// (inetOrgPerson) directories.
//
// A read either delivers every page or returns an error: a partial read never
// looks complete. Errors name the domain and the URL and never contain the
// bind password; IsTransient tells retryable failures (network, server busy)
// from configuration mistakes (bad credentials, certificate, base DN,
// filter).
package ldapdir
