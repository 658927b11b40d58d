// Package samba runs the Samba Active Directory domain controller that the
// tests of a machine share (its LDAP ports are fixed), and changes its
// directory: OUs, users, groups, moves, tombstones and their restore.
//
// Samba needs root (it binds 389/636 on 127.0.0.1). The DC is provisioned
// once, shared by every test binary of a `go test ./...` run through an
// flock on a state directory, and left running afterwards so that reruns are
// fast. Stop stops it and removes its state.
//
// The state directory defaults to /tmp/adsync-testenv/samba and can be moved
// with the environment variable ADSYNC_TESTENV_DIR.
package samba
