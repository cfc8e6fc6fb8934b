package bench

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/hiso-chat/hiso/node"
	"github.com/hiso-chat/hiso/node/api"
)

const fileCopyProtocol = "/hiso-bench/filecopy/1.0.0"

// transferSize is the size of the file of BenchmarkFileTransfer
// (HISO_BENCH_FILE_SIZE, bytes; the figure is 1 GiB).
func transferSize() int { return envInt("HISO_BENCH_FILE_SIZE", 64<<20) }

// BenchmarkFileTransfer: one file from one node to another on loopback,
// bytes per second; one op is one file of HISO_BENCH_FILE_SIZE.
//
//   - libp2p: bare hosts (TCP, Noise, yamux); the sender writes the file's
//     bytes on one stream, the receiver writes them to a file and syncs it
//     once at the end. What hiso adds to the wire and the disk is measured
//     against this.
//   - hiso: from SendFile returning (the file already copied, sealed and
//     hashed into the sender's home: that is timed apart, as copy) until
//     the receiver's file message is complete: the receiver pulls the tree
//     and then 1 MiB chunks, verifies each against the BLAKE3 tree, seals
//     it into its blob and syncs once a second.
//
// Also recorded: the process's peak RSS during the hiso transfer (both
// nodes live in it), and the latency of a text sent in the middle of the
// transfer beside that of the same text with the link idle.
func BenchmarkFileTransfer(b *testing.B) {
	b.Run("libp2p", func(b *testing.B) { fileCopyLibp2p(b, transferSize()) })
	b.Run("hiso", func(b *testing.B) { fileTransferHiso(b, transferSize()) })
}

func writeRandomFile(tb testing.TB, size int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "payload.bin")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, int64(size)); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

func fileCopyLibp2p(r runner, size int) {
	sender, receiver := bareHost(r), bareHost(r)
	dir := r.TempDir()
	done := make(chan error, 1)
	receiver.SetStreamHandler(fileCopyProtocol, func(s network.Stream) {
		defer s.Close()
		var hdr [8]byte
		if _, err := io.ReadFull(s, hdr[:]); err != nil {
			done <- err
			return
		}
		f, err := os.CreateTemp(dir, "copy")
		if err != nil {
			done <- err
			return
		}
		defer os.Remove(f.Name())
		defer f.Close()
		if _, err := io.CopyN(f, s, int64(binary.BigEndian.Uint64(hdr[:]))); err != nil {
			done <- err
			return
		}
		done <- f.Sync()
	})
	connectHosts(r, sender, hostInfo(receiver))
	path := writeRandomFile(r, size)
	var total time.Duration
	n := 0
	for r.Loop() {
		start := time.Now()
		src, err := os.Open(path)
		if err != nil {
			r.Fatal(err)
		}
		s, err := sender.NewStream(context.Background(), receiver.ID(), fileCopyProtocol)
		if err != nil {
			r.Fatal(err)
		}
		var hdr [8]byte
		binary.BigEndian.PutUint64(hdr[:], uint64(size))
		if _, err := s.Write(hdr[:]); err != nil {
			r.Fatal(err)
		}
		if _, err := io.Copy(s, src); err != nil {
			r.Fatal(err)
		}
		src.Close()
		if err := <-done; err != nil {
			r.Fatal(err)
		}
		s.Close()
		total += time.Since(start)
		n++
	}
	record(r, "files/libp2p/bytes-per-second", float64(size)*float64(n)/total.Seconds(), "B/s", n,
		"bare libp2p stream, receiver writes to disk and syncs once")
}

func fileTransferHiso(r runner, size int) {
	alice, bob := newNode(r, node.NetConfig{}), newNode(r, node.NetConfig{})
	befriend(r, alice, "alice", bob, "bob")
	ctx := context.Background()
	// The link idle: a text's latency, for the comparison below.
	events, err := alice.Events(ctx)
	if err != nil {
		r.Fatal(err)
	}
	var idle []time.Duration
	for i := 0; i < 20; i++ {
		start := time.Now()
		waitDelivered(r, events, sendOne(r, alice, "bob", text(i, 100)))
		idle = append(idle, time.Since(start))
	}
	path := writeRandomFile(r, size)
	bobEvents, err := bob.Events(ctx)
	if err != nil {
		r.Fatal(err)
	}
	var total, copying time.Duration
	var during []time.Duration
	var peakRSS atomic.Uint64
	n := 0
	for r.Loop() {
		start := time.Now()
		m, err := alice.SendFile(ctx, api.SendFile{To: "bob", Path: path})
		if err != nil {
			r.Fatal(err)
		}
		copying += time.Since(start)
		start = time.Now()
		stop := make(chan struct{})
		go sampleRSS(stop, &peakRSS)
		half := false
		for done := false; !done; {
			select {
			case ev := <-bobEvents:
				if ev.Message == nil || ev.Message.ID != m.ID || ev.Message.File == nil {
					continue
				}
				f := ev.Message.File
				if f.State == api.FileOffered { // over the auto-accept size
					if _, err := bob.AcceptFile(ctx, m.ID); err != nil {
						r.Fatal(err)
					}
				}
				if !half && f.Received > f.Size/2 {
					half = true
					t0 := time.Now()
					waitDelivered(r, events, sendOne(r, alice, "bob", text(99, 100)))
					during = append(during, time.Since(t0))
				}
				done = f.State == api.FileComplete
				if f.State == api.FileFailed {
					r.Fatalf("the transfer failed: %s", f.Error)
				}
			case <-time.After(5 * time.Minute):
				r.Fatal("the file did not arrive in 5 minutes")
			}
		}
		total += time.Since(start)
		close(stop)
		n++
		// Each round sends a new copy; the previous one goes.
		if _, err := alice.Delete(ctx, "bob", api.DeleteMessages{IDs: []string{m.ID}}); err != nil {
			r.Fatal(err)
		}
	}
	record(r, "files/hiso/bytes-per-second", float64(size)*float64(n)/total.Seconds(), "B/s", n,
		"from SendFile's return until the receiver's message is complete")
	record(r, "files/hiso/copy-bytes-per-second", float64(size)*float64(n)/copying.Seconds(), "B/s", n,
		"SendFile: read, hash (BLAKE3 tree) and seal into the sender's home")
	record(r, "files/hiso/peak-rss", float64(peakRSS.Load()), "B", n, "both nodes in one process")
	recordLatencies(r, "files/hiso/text-idle", idle, "a 100-byte text, link idle")
	if len(during) > 0 {
		recordLatencies(r, "files/hiso/text-during-transfer", during, "the same text half way through the file")
	}
}

// sampleRSS records the process's peak resident set until stop closes.
func sampleRSS(stop <-chan struct{}, peak *atomic.Uint64) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if rss := currentRSS(); rss > peak.Load() {
			peak.Store(rss)
		}
	}
}

// currentRSS is the process's resident set in bytes (Linux; 0 elsewhere).
func currentRSS() uint64 {
	if runtime.GOOS != "linux" {
		return 0
	}
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, res uint64
	if _, err := fmt.Sscan(string(b), &size, &res); err != nil {
		return 0
	}
	return res * uint64(os.Getpagesize())
}

func TestFileTransferSmoke(t *testing.T) {
	fileCopyLibp2p(smoke(t, 1), 4<<20)
	fileTransferHiso(smoke(t, 1), 4<<20)
}
