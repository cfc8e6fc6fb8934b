// Package bench is hiso's benchmark suite: message latency, throughput,
// connection set-up, idle resources of the real daemon, and history at
// scale, each measured side by side with a baseline that has no hiso logic
// (a raw TCP echo, a bare go-libp2p stream, a bare libp2p host, a plain
// SQLite database with the same schema).
//
// Everything runs on 127.0.0.1: nodes get node.WithListen on loopback and
// a NetConfig without public bootstrap peers; the DHT figures use a private
// DHT of in-process nodes under the protocol ID /hiso-bench/kad/1.0.0.
//
// `go test ./bench/` runs tiny smoke runs only (seconds).
// `go test -run '^$' -bench . ./bench/` runs every benchmark once with
// small defaults. bench/run runs them all with the sizes of BENCHMARKS.md
// and rewrites that file; see there for the figures and how to read them.
//
// Flags (after -args, or on the test binary) and their environment
// variables:
//
//	-idle DURATION             HISO_BENCH_IDLE            idle measurement window (default 20s; bench/run: 60s)
//	-idle-warmup DURATION      HISO_BENCH_IDLE_WARMUP     settle time before the window (default 10s)
//	-history-msgs N            HISO_BENCH_HISTORY_MSGS    messages in the history store (default 200000)
//	-history-contacts N        HISO_BENCH_HISTORY_CONTACTS contacts they are spread over (default 200)
//	-msgs N                    HISO_BENCH_MSGS            messages per throughput round (default 10240)
//	-results FILE              HISO_BENCH_RESULTS         append figures as JSON lines (bench/report reads them)
//	                           HISO_BENCH_BIN             directory with prebuilt hiso and idlehost binaries
//	                           HISO_BENCH_CACHE           directory to keep built history databases in
package bench
