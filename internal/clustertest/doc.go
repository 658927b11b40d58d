// Package clustertest holds adsync's cluster tests: the real adsync binary,
// each service in its own OS process (`adsync serve SERVICE`), on a real
// 3-node NATS JetStream cluster (natscluster.Start) with replicas 3,
// reading real OpenLDAP slapds. The tests kill NATS nodes in the middle of
// runs, scale the services that may run more than once, and check the
// per-service NATS permissions of deploy/nats.
//
// Everything is in _test.go files; the tests skip under -short.
package clustertest
