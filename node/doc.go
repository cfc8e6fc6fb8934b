// Package node is a running hiso device: the libp2p host, the chat stream
// handler that accepts messages from contacts, the delivery service that
// drains the outbox, and the events that front ends subscribe to. It
// implements api.Service, so the daemon, the terminal UI and the CLI (when
// it opens a home itself) all drive the same code.
package node
