// Package node is a running hiso device: the libp2p host, the stream
// services that serve hiso's protocols, the delivery workers that drain
// the outbox, discovery, and the events that front ends subscribe to. It
// implements api.Service, so the daemon, the terminal UI and the CLI (when
// it opens a home itself) all drive the same code.
//
// # Halves
//
// A Node has an offline half (store, roster of contacts, blocked peers,
// the expiry loop, the event broker), which always exists, and a network
// half (netStack: host, DHT (servers only), the rendezvous hosts, mDNS,
// punch tracer, reachability, the stream services and delivery), made
// once by New and nil for a node opened with
// Offline. API methods reach the network half only through Node.network,
// which says ErrOffline; code that exists only while online (services,
// loops, delivery) is started after the network half is complete.
//
// # Who owns which goroutine
//
//   - Node.g (a group): the expiry loop, the connection watcher
//     (watchPeers), the rendezvous announcer (provideLoop), the punch retry
//     loop, the greeting of contacts at start, and one-off tasks started
//     by API calls (dialling a contact just added, nudging one just
//     accepted, dialling a contact mDNS saw).
//   - chatService.g: one goroutine per incoming chat stream (the handler)
//     and its frame reader.
//   - requestService.g: one goroutine per incoming contact request.
//   - delivery.g: one worker per contact with something to send, and the
//     ack reader of its stream.
//   - libp2p owns its own (the swarm, identify, autorelay, DCUtR, the
//     DHT's); autorelay's peer source waits for netStack.ready.
//   - netStack.rv: the rendezvous hosts (a libp2p host and DHT client
//     under an identity made fresh each epoch; the current one and the
//     previous), made on first use by any of the above, closed by Close
//     before the device's host; libp2p owns their goroutines too.
//
// A group refuses new goroutines once its stop began, so nothing joins
// while Close waits. Close stops the node's group and every service
// (cancel, remove the stream handler), closes the DHT and the host (which
// unblocks any stream read or write still pending), then waits for the
// services and the node's group, and closes the event streams last.
//
// # How a stream lives and ends
//
// Chat (/hiso/chat/1.0.0): the sender's delivery worker opens it after
// connecting and after any contact request we owe was answered. It writes
// up to a window of 512 frames, reads acks, and keeps the stream open for
// lingerIdle (20 s) once everything is acked; then it closes it. No ack for
// ackTimeout (30 s), a reset, or a bad frame: the stream is reset and the
// worker retries with backoff, resending from the first unacked event. The
// receiver's handler accepts the stream only from a contact, resets it on
// any frame it cannot validate, and resets it when no whole frame came for
// streamIdle (1 min). Typing hints travel on a short stream of their own,
// opened only on an existing connection.
//
// Request (/hiso/request/1.0.0): one request, one reply, under a 10 s
// deadline; the only protocol a stranger may open, rate-limited per peer
// and in total.
//
// # Adding a stream protocol
//
// See docs/design.md ("Adding a stream protocol"): a service type with its
// own group and model interface, made in New after the network half, and
// listed in netStack.services so Close stops it.
package node
