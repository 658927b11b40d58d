// Package testenv runs real directory servers for tests: one shared Samba
// Active Directory domain controller per machine (its LDAP ports are fixed)
// and private OpenLDAP slapd instances per test.
//
// Nothing here is mocked: tests talk LDAP to real servers over TLS with a
// certificate issued by a throw-away CA that this package creates.
//
// Samba needs root (it binds 389/636 on 127.0.0.1). The DC is provisioned
// once, shared by every test binary of a `go test ./...` run through an
// flock on a state directory, and left running afterwards so that reruns are
// fast. StopSamba stops it and removes its state.
//
// The state directory defaults to /tmp/adsync-testenv/samba and can be moved
// with the environment variable ADSYNC_TESTENV_DIR.
package testenv
