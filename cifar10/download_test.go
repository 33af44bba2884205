package cifar10

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cifarnet/cifarnet/dataset"
)

// payload is a stand-in archive: 300 KiB of deterministic bytes.
func payload() ([]byte, string) {
	b := make([]byte, 300<<10)
	for i := range b {
		b[i] = byte(i*31 + i/7)
	}
	sum := md5.Sum(b)
	return b, hex.EncodeToString(sum[:])
}

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func TestDownloadSuccess(t *testing.T) {
	data, sum := payload()
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "a.tar.gz", time.Time{}, bytes.NewReader(data))
	})
	dir := t.TempDir()
	var last int64
	d := &Downloader{URL: s.URL, MD5: sum, Progress: func(done, total int64) {
		if total != int64(len(data)) || done < last {
			t.Errorf("progress %d/%d after %d", done, total, last)
		}
		last = done
	}}
	dest, err := EnsureCached(context.Background(), d, dir)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(dest)
	if !bytes.Equal(got, data) || last != int64(len(data)) {
		t.Fatalf("downloaded %d bytes, progress ended at %d", len(got), last)
	}
	if _, err := os.Stat(dest + ".part"); !os.IsNotExist(err) {
		t.Error(".part file left behind")
	}
	// A verified file is not fetched again.
	s.Close()
	if _, err := EnsureCached(context.Background(), d, dir); err != nil {
		t.Fatalf("second fetch of a cached file: %v", err)
	}
}

func TestDownloadResumesAfterACut(t *testing.T) {
	data, sum := payload()
	var requests atomic.Int32
	var sawRange atomic.Value
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			// Announce everything, send a third, drop the connection.
			hj, _ := w.(http.Hijacker)
			conn, buf, _ := hj.Hijack()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: " + itoa(len(data)) + "\r\n\r\n")
			buf.Write(data[:len(data)/3])
			buf.Flush()
			conn.Close()
			return
		}
		sawRange.Store(r.Header.Get("Range"))
		http.ServeContent(w, r, "a.tar.gz", time.Time{}, bytes.NewReader(data))
	})
	dir := t.TempDir()
	d := &Downloader{URL: s.URL, MD5: sum}
	if _, err := EnsureCached(context.Background(), d, dir); err == nil || !strings.Contains(err.Error(), "run again to resume") {
		t.Fatalf("cut download: %v", err)
	}
	part, _ := os.ReadFile(filepath.Join(dir, ArchiveName+".part"))
	if len(part) != len(data)/3 {
		t.Fatalf("part file has %d bytes, want %d", len(part), len(data)/3)
	}
	dest, err := EnsureCached(context.Background(), d, dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := "bytes=" + itoa(len(data)/3) + "-"; sawRange.Load() != want {
		t.Errorf("resume asked for %v, want %q", sawRange.Load(), want)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, data) {
		t.Fatal("resumed file differs")
	}
}

func TestDownloadFailures(t *testing.T) {
	data, sum := payload()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		md5     string
		want    string
	}{
		{"wrong checksum", func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, "a", time.Time{}, bytes.NewReader(data))
		}, strings.Repeat("0", 32), "the file is corrupt and was deleted"},
		{"404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, sum, "HTTP 404"},
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, sum, "HTTP 500"},
		{"stall", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", itoa(len(data)))
			w.Write(data[:1000])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // never sends the rest
		}, sum, "stalled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serve(t, tt.handler)
			dir := t.TempDir()
			d := &Downloader{URL: s.URL, MD5: tt.md5, Stall: 200 * time.Millisecond}
			_, err := EnsureCached(context.Background(), d, dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(dir, ArchiveName)); !os.IsNotExist(err) {
				t.Error("a failed download left the archive in place")
			}
			if tt.name == "wrong checksum" {
				if _, err := os.Stat(filepath.Join(dir, ArchiveName+".part")); !os.IsNotExist(err) {
					t.Error("the corrupt download was kept")
				}
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestFindSearchOrderAndDownload points the caches at temporary
// directories: an empty machine downloads into cifarnet's cache, offline
// refuses and names the places looked at, Keras's cache is used when present.
func TestFindSearchOrderAndDownload(t *testing.T) {
	home, cache := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv(EnvVar, "")
	data, sum := payload()
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "a", time.Time{}, bytes.NewReader(data))
	})
	d := &Downloader{URL: s.URL, MD5: sum}
	_, err := Find(context.Background(), "", true, d)
	if err == nil || !strings.Contains(err.Error(), "offline") || !strings.Contains(err.Error(), filepath.Join(home, ".keras", "datasets", PyArchiveName)) {
		t.Fatalf("offline on an empty machine: %v", err)
	}
	got, err := Find(context.Background(), "", false, d)
	if err != nil || got != filepath.Join(cache, "cifarnet", ArchiveName) {
		t.Fatalf("download: %q, %v", got, err)
	}
	// Keras's cache comes after cifarnet's: remove ours, add a Keras one.
	os.Remove(got)
	keras := filepath.Join(home, ".keras", "datasets", PyDirName)
	os.MkdirAll(keras, 0o755)
	if got, err := Find(context.Background(), "", true, d); err != nil || got != keras {
		t.Fatalf("keras cache: %q, %v", got, err)
	}
	t.Setenv(EnvVar, "/nonexistent/cifar")
	if _, err := Find(context.Background(), "", false, d); err == nil || !strings.Contains(err.Error(), "$CIFARNET_DATA=/nonexistent/cifar") {
		t.Fatalf("a wrong $CIFARNET_DATA must not fall through to a download: %v", err)
	}
}

// TestDownloadBounds: every way a server can keep a download going is cut
// off, within bounds of requests, bytes and time.
func TestDownloadBounds(t *testing.T) {
	data, sum := payload()
	size := int64(len(data))
	tests := []struct {
		name    string
		handler func(http.ResponseWriter, *http.Request)
		part    bool // a stale .part file is there before
		d       Downloader
		want    string
	}{
		{"416 forever", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		}, true, Downloader{}, "HTTP 416"},
		{"no length, endless body", func(w http.ResponseWriter, r *http.Request) {
			chunk := make([]byte, 64<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}, false, Downloader{Size: size}, "sent more than the known size"},
		{"length beyond the known size", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", itoa(1<<40))
			w.Write(data)
		}, false, Downloader{Size: size}, "announces 1099511627776 bytes"},
		{"trickle", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", itoa(len(data)))
			for i := 0; r.Context().Err() == nil; i++ {
				w.Write(data[i : i+1])
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(20 * time.Millisecond):
				}
			}
		}, false, Downloader{Stall: 200 * time.Millisecond}, "stalled"},
		{"slow but steady past the total time", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", itoa(len(data)))
			for i := 0; r.Context().Err() == nil; i += 2048 {
				w.Write(data[i : i+2048])
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(20 * time.Millisecond):
				}
			}
		}, false, Downloader{Stall: 200 * time.Millisecond, Timeout: 500 * time.Millisecond}, "timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			s := serve(t, func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				tt.handler(w, r)
			})
			dir := t.TempDir()
			if tt.part {
				os.WriteFile(filepath.Join(dir, ArchiveName+".part"), data[:1000], 0o644)
			}
			d := tt.d
			d.URL, d.MD5 = s.URL, sum
			start := time.Now()
			_, err := EnsureCached(context.Background(), &d, dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if n := requests.Load(); n > dataset.DefaultAttempts {
				t.Errorf("%d requests, want at most %d", n, dataset.DefaultAttempts)
			}
			if el := time.Since(start); el > 30*time.Second {
				t.Errorf("took %v", el)
			}
			if fi, err := os.Stat(filepath.Join(dir, ArchiveName+".part")); err == nil && fi.Size() > size {
				t.Errorf(".part holds %d bytes, more than the archive's %d", fi.Size(), size)
			}
			if _, err := os.Stat(filepath.Join(dir, ArchiveName)); !os.IsNotExist(err) {
				t.Error("a failed download left the archive in place")
			}
		})
	}
}

// TestConcurrentDownloadsIntoOneCache: two downloads of the same archive
// into one cache both succeed, and the file is the archive.
func TestConcurrentDownloadsIntoOneCache(t *testing.T) {
	data, sum := payload()
	var requests atomic.Int32
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Length", itoa(len(data)))
		for i := 0; i < len(data); i += 32 << 10 {
			w.Write(data[i:min(i+32<<10, len(data))])
			w.(http.Flusher).Flush()
			time.Sleep(5 * time.Millisecond) // long enough for the two to overlap
		}
	})
	dir := t.TempDir()
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := EnsureCached(context.Background(), &Downloader{URL: s.URL, MD5: sum, Size: int64(len(data))}, dir)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent download: %v", err)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, ArchiveName)); !bytes.Equal(got, data) {
		t.Fatal("the cached archive differs")
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1 (the second waits and finds the first's file)", n)
	}
}
