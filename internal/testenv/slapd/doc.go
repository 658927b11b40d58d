// Package slapd runs private OpenLDAP servers for tests (Start: one per
// test, stopped when it ends) and for the benchmark (StartDaemon), loaded
// with generated users, over LDAP and LDAPS with a throw-away CA.
package slapd
