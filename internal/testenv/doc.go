// Package testenv holds what the test harnesses share: a throw-away
// certificate authority (WriteTLS), process, port and lock helpers, LDAP
// administrator connections, and the id generators of the benchmarks.
//
// The harnesses themselves are its sub-packages, one for each thing they
// run: samba (the shared Active Directory DC), slapd (private OpenLDAP
// servers), natscluster (a NATS JetStream cluster), receivers (SMTP and
// webhook), older (adsync before the newest migration). See README.md.
package testenv
