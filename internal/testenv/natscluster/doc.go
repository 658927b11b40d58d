// Package natscluster runs a NATS JetStream cluster of real nats-server
// processes (built from go.mod's version), whose nodes a test can kill,
// restart and move stream and consumer leaders between.
package natscluster
