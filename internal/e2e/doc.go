// Package e2e holds adsync's end-to-end tests: the real `adsync run` (the
// same code path as the binary, through cli.Run) with its embedded NATS
// server, against a real Samba AD DC and real OpenLDAP slapd servers started
// by internal/testenv. Every event published during a test is checked
// against its JSON Schema.
package e2e
