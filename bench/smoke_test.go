package bench

import (
	"os"
	"testing"
	"time"
)

// TestSmoke runs each measurement a few times on tiny inputs, so that
// `go test ./...` keeps the benchmarks working without paying for them.
// It checks that they run, not how fast.
func TestSmoke(t *testing.T) {
	t.Run("latency/tcp", func(t *testing.T) { latencyTCP(smoke(t, 5)) })
	t.Run("latency/libp2p", func(t *testing.T) { latencyLibp2p(smoke(t, 5)) })
	t.Run("latency/hiso", func(t *testing.T) { latencyHiso(smoke(t, 3)) })
	t.Run("latency/libp2p-durable", func(t *testing.T) { latencyDurable(smoke(t, 3)) })
	t.Run("throughput/libp2p", func(t *testing.T) { throughputLibp2p(smoke(t, 1), 2, 2*ackEvery, false) })
	t.Run("throughput/libp2p-durable", func(t *testing.T) { throughputLibp2p(smoke(t, 1), 2, 2*ackEvery, true) })
	t.Run("throughput/hiso", func(t *testing.T) { throughputHiso(smoke(t, 1), 2, 2*sendBatch) })
	t.Run("drain/libp2p-durable", func(t *testing.T) { drainLibp2p(smoke(t, 1), 20) })
	t.Run("drain/hiso", func(t *testing.T) { drainHiso(smoke(t, 1), 20) })
	t.Run("coldstart/libp2p", func(t *testing.T) { coldStartLibp2p(smoke(t, 1)) })
	t.Run("coldstart/hiso", func(t *testing.T) { coldStartHiso(smoke(t, 1)) })
	t.Run("history", func(t *testing.T) {
		h := historyFixture(t, 1200, 2)
		for _, q := range h.queries() {
			t.Run(q.name+"/hiso", func(t *testing.T) { timeQuery(smoke(t, 2), q.name, "", q.hiso) })
			t.Run(q.name+"/plain", func(t *testing.T) { timeQuery(smoke(t, 2), q.name, "", q.plain) })
		}
	})
	t.Run("proc", func(t *testing.T) {
		pid := os.Getpid()
		if rss(t, pid) <= 0 || cpuTicks(t, pid) < 0 {
			t.Fatal("cannot read /proc")
		}
	})
}

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- {
		s = append(s, time.Duration(i))
	}
	if p := percentile(s, 50); p != 50 {
		t.Errorf("p50 = %d, want 50", p)
	}
	if p := percentile(s, 99); p != 99 {
		t.Errorf("p99 = %d, want 99", p)
	}
	if p := percentile(s[:1], 99); p != 1 {
		t.Errorf("p99 of one sample = %d", p)
	}
}

func TestCorpus(t *testing.T) {
	a, b := newCorpus(3), newCorpus(3)
	common := 0
	for i := range 1000 {
		ca, ta := a.next(i)
		cb, tb := b.next(i)
		if ca != cb || ta != tb {
			t.Fatalf("message %d differs between the two builds", i)
		}
		if len(ta) == 0 || ca < 0 || ca >= 3 {
			t.Fatalf("message %d: contact %d, text %q", i, ca, ta)
		}
		if containsWord(ta, commonWord) {
			common++
		}
	}
	if common != 10 {
		t.Errorf("%q in %d of 1000 messages, want 10", commonWord, common)
	}
}

func containsWord(s, w string) bool {
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != ' ' {
			i++
		}
		if s[:i] == w {
			return true
		}
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return false
}
