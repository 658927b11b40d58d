// Package natsapi is the request/reply protocol over NATS (nats micro
// endpoints) by which the command line, the api service and diff ask the
// services that hold state: its subjects and messages (protocol.go), the
// client (client.go) and the endpoints' side (server.go).
package natsapi
