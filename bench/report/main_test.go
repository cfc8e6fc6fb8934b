package main

import (
	"fmt"
	"strings"
	"testing"
)

func fake() map[string]result {
	return map[string]result{
		"latency/hiso/p50":        {Key: "latency/hiso/p50", Value: 6e6, Unit: "ns", N: 10000},
		"latency/libp2p/p50":      {Key: "latency/libp2p/p50", Value: 40e3, Unit: "ns", N: 10000},
		"throughput/hiso/1":       {Value: 12345, Unit: "msg/s", N: 30000},
		"throughput/libp2p/1":     {Value: 1234567, Unit: "msg/s", N: 30000},
		"idle/hiso/cpu":           {Value: 0.2, Unit: "percent"},
		"idle/libp2p/cpu":         {Value: 0, Unit: "percent"},
		"history/hiso/open/p50":   {Value: 4e6, Unit: "ns", N: 300, Note: "200000 messages, 200 contacts"},
		"history/hiso/build":      {Value: 3000, Unit: "msg/s", N: 200000, Note: "200000 messages, 200 contacts, batches"},
		"idle/window":             {Value: 60e9, Unit: "ns"},
		"history/hiso/open/p99":   {Value: 12e6, Unit: "ns", N: 300},
		"history/plain/open/p50":  {Value: 1e6, Unit: "ns", N: 300},
		"history/hiso/search/p50": {Value: 5e6, Unit: "ns", N: 300},
	}
}

func TestTable(t *testing.T) {
	tbl := table(fake())
	for _, want := range []string{
		"| 1. Latency p50, Send → ack, 100 B, one at a time, n=10000 | 6.00 ms | 40.0 µs | 150× | ≤ 3× libp2p | **no** |",
		"| 2. Throughput, 1 contact, 100 B, acked and durable | 12,345 msg/s | 1,234,567 msg/s | 0.01× | ≥ 10,000 msg/s | yes |",
		"| n/a (baseline 0) | < 1% of a core | yes |",
		"| 5. Open a conversation: History(limit 50), n=300 [200000 messages, 200 contacts] | 4.00 ms (p99 12.00 ms) | 1.00 ms | 4.00× | < 10 ms (p99) | **no** (yes at p50) |",
		"[200000 messages, 200 contacts] (1,000,000 would take 6 min) | 3,000 msg/s |",
		"| 4. Idle CPU, daemon, 10 contacts online [1m0s window; the issue: 5 min] | 0.20 % |",
		"| 5.00 ms | — | — | < 100 ms (p99) | yes |",
	} {
		if !strings.Contains(tbl, want) {
			t.Errorf("table lacks %q:\n%s", want, tbl)
		}
	}
	if strings.Contains(tbl, "Throughput, 10 contacts") {
		t.Error("a row without results was rendered")
	}
}

func TestHistoryKeepsLastRunsAndAnalysis(t *testing.T) {
	doc := ""
	for i := range 7 {
		doc = render(fake(), meta{Date: fmt.Sprintf("run%d", i), Nproc: "2"}, "", doc)
		if i == 0 {
			doc = strings.Replace(doc, defaultAnalysis, "\nours\n", 1)
		}
	}
	if n := strings.Count(doc, runStart); n != keepRuns {
		t.Fatalf("%d runs kept, want %d", n, keepRuns)
	}
	for i := range 7 {
		has := strings.Contains(doc, fmt.Sprintf("### run%d", i))
		if want := i >= 7-keepRuns; has != want {
			t.Errorf("run%d kept: %v, want %v", i, has, want)
		}
	}
	if strings.Index(doc, "### run6") > strings.Index(doc, "### run5") {
		t.Error("newest run is not first")
	}
	if !strings.Contains(doc, analysisStart+"\nours\n"+analysisEnd) {
		t.Error("analysis not kept")
	}
}
