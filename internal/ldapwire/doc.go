// Package ldapwire decodes the LDAP messages a paged user search returns
// (RFC 4511 section 4.1.1, BER as restricted by section 5.1: definite
// lengths, one-octet tags): a measured departure from go-ldap.
//
// go-ldap's generic decoder (go-asn1-ber) builds a tree of packets and
// copies every element's contents into each of its ancestors; on a
// 100,000-user read it was about two thirds of the directory-reader's CPU
// and the floor of the whole sync (docs/performance.md). This one reads a
// message into one buffer and slices it: an entry costs the buffer, one
// string copy of it, and its attribute slices. Requests are still encoded
// with go-ldap's BER package (internal/ldapdir/wireconn.go), and results
// are go-ldap's types (*ldap.Entry, *ldap.Error).
package ldapwire
