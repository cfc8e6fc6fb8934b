package bench

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	idleFor         = flag.Duration("idle", envDuration("HISO_BENCH_IDLE", 20*time.Second), "idle resources: measurement window")
	idleWarmup      = flag.Duration("idle-warmup", envDuration("HISO_BENCH_IDLE_WARMUP", 10*time.Second), "idle resources: settle time before the window")
	historyMsgs     = flag.Int("history-msgs", envInt("HISO_BENCH_HISTORY_MSGS", 200_000), "history: messages in the store")
	historyContacts = flag.Int("history-contacts", envInt("HISO_BENCH_HISTORY_CONTACTS", 200), "history: contacts the messages are spread over")
	roundMsgs       = flag.Int("msgs", envInt("HISO_BENCH_MSGS", 10_240), "throughput: messages per round (per contact with one contact; in total with ten)")
	resultsFile     = flag.String("results", os.Getenv("HISO_BENCH_RESULTS"), "append figures to this file as JSON lines")
)

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// cleanups run when the test binary exits: fixtures shared by several
// benchmarks (a DHT, a built history database) live until then.
var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func atExit(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	cleanupMu.Lock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanupMu.Unlock()
	os.Exit(code)
}

// runner is what a measurement needs from its caller: *testing.B, or a
// smoke run (smokeRunner) that does a fixed, tiny number of iterations.
type runner interface {
	testing.TB
	Loop() bool
	StopTimer()
	StartTimer()
	ReportMetric(n float64, unit string)
}

var _ runner = (*testing.B)(nil)

// smokeRunner runs a measurement n times inside a test, for CI.
type smokeRunner struct {
	*testing.T
	n, i int
}

func smoke(t *testing.T, n int) *smokeRunner { return &smokeRunner{T: t, n: n} }

func (s *smokeRunner) Loop() bool {
	s.i++
	return s.i <= s.n
}
func (s *smokeRunner) StopTimer()  {}
func (s *smokeRunner) StartTimer() {}
func (s *smokeRunner) ReportMetric(v float64, unit string) {
	s.Logf("%s: %.4g %s", s.Name(), v, unit)
}

// A result is one figure of one run, as bench/report reads it.
type result struct {
	Key   string  `json:"key"`   // e.g. "latency/hiso/p50"
	Value float64 `json:"value"` // in Unit
	Unit  string  `json:"unit"`  // ns, msg/s, bytes, percent, count
	N     int     `json:"n"`     // samples or messages behind the value
	Note  string  `json:"note,omitempty"`
	Time  string  `json:"time"`
}

var resultsMu sync.Mutex

// record reports a figure as a benchmark metric and, for benchmarks with
// -results set, appends it to the results file. The last record of a key
// wins, so a benchmark run again (-count) leaves its last figure.
func record(r runner, key string, value float64, unit string, n int, note string) {
	metric := strings.ReplaceAll(key, "/", "-")
	switch unit {
	case "ns":
		r.ReportMetric(value, metric+"-ns")
	default:
		r.ReportMetric(value, metric+"-"+strings.ReplaceAll(unit, "/", "per"))
	}
	if _, ok := r.(*testing.B); !ok || *resultsFile == "" {
		return
	}
	b, err := json.Marshal(result{Key: key, Value: value, Unit: unit, N: n, Note: note, Time: time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		r.Fatal(err)
	}
	resultsMu.Lock()
	defer resultsMu.Unlock()
	f, err := os.OpenFile(*resultsFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		r.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		r.Fatal(err)
	}
}

// percentile returns the p-th percentile (0 < p <= 100) of samples by the
// nearest-rank method. It sorts samples.
func percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	slices.Sort(samples)
	rank := int(math.Ceil(p / 100 * float64(len(samples))))
	return samples[max(rank-1, 0)]
}

func median(samples []time.Duration) time.Duration { return percentile(samples, 50) }

// recordLatencies records p50 and p99 (and the mean) of samples under prefix.
func recordLatencies(r runner, prefix string, samples []time.Duration, note string) {
	if len(samples) == 0 {
		r.Fatal("no samples")
	}
	var sum time.Duration
	for _, s := range samples {
		sum += s
	}
	record(r, prefix+"/p50", float64(percentile(samples, 50)), "ns", len(samples), note)
	record(r, prefix+"/p99", float64(percentile(samples, 99)), "ns", len(samples), note)
	record(r, prefix+"/mean", float64(sum)/float64(len(samples)), "ns", len(samples), note)
}

// moduleRoot is the directory of hiso's go.mod, found from the working
// directory up (go test runs in bench/; bench/run does the same).
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/hiso-chat/hiso\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("hiso's go.mod not found above the working directory")
		}
		dir = parent
	}
}

// deadline is how long any single wait in a benchmark may take before the
// benchmark fails instead of hanging.
const deadline = 90 * time.Second

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.1fµs", float64(d)/1e3)
	}
}
