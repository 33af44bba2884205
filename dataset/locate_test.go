package dataset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// home points the user's home and cache directories at fresh ones.
func home(t *testing.T) (cache, keras string) {
	t.Helper()
	h := t.TempDir()
	t.Setenv("HOME", h)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(h, "cache"))
	return filepath.Join(h, "cache", "cifarnet"), filepath.Join(h, ".keras", "datasets")
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// twoFiles is a data set of two files served by a local server.
func twoFiles(t *testing.T) (Places, map[string][]byte, *int) {
	t.Helper()
	files := map[string][]byte{"a.gz": bytes.Repeat([]byte("a"), 5000), "b.gz": bytes.Repeat([]byte("b"), 7000)}
	var requests int
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/mirror/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "x", time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(s.Close)
	p := Places{Title: "Two", EnvVar: "CIFARNET_TEST_TWO", Cache: []string{"two"}, Keras: []string{"two-keras"}, Want: "a directory of a.gz and b.gz",
		Dir: "two", Found: "two"}
	for _, n := range []string{"a.gz", "b.gz"} {
		p.Files = append(p.Files, Remote{Name: n, Downloader: Downloader{URL: s.URL + "/mirror/" + n, SHA256: sha(files[n]), MaxSize: 1 << 20}})
	}
	return p, files, &requests
}

func TestFindLooksThenDownloads(t *testing.T) {
	cache, keras := home(t)
	p, files, requests := twoFiles(t)
	// Offline, nothing anywhere: every place is named.
	_, err := p.Find(context.Background(), "", true, nil)
	if err == nil || !strings.Contains(err.Error(), "offline") || !strings.Contains(err.Error(), filepath.Join(keras, "two-keras")) || !strings.Contains(err.Error(), filepath.Join(cache, "two")) {
		t.Fatalf("offline: %v", err)
	}
	// Keras's cache is used when it is there.
	os.MkdirAll(filepath.Join(keras, "two-keras"), 0o755)
	if got, err := p.Find(context.Background(), "", true, nil); err != nil || got != filepath.Join(keras, "two-keras") {
		t.Fatalf("Keras's cache: %q %v", got, err)
	}
	os.RemoveAll(keras)
	// Else both files are downloaded into the cache, with progress per file.
	seen := map[string]int64{}
	got, err := p.Find(context.Background(), "", false, func(file string) func(done, total int64) {
		return func(done, total int64) { seen[file] = done }
	})
	if err != nil || got != filepath.Join(cache, "two") {
		t.Fatalf("download: %q %v", got, err)
	}
	for n, b := range files {
		if on, _ := os.ReadFile(filepath.Join(cache, "two", n)); !bytes.Equal(on, b) || seen[n] != int64(len(b)) {
			t.Errorf("%s: %d bytes on disk, progress %d, want %d", n, len(on), seen[n], len(b))
		}
	}
	// The cache is found now; nothing is fetched again.
	before := *requests
	if got, err := p.Find(context.Background(), "", false, nil); err != nil || got != filepath.Join(cache, "two") || *requests != before {
		t.Fatalf("second Find: %q %v, %d more requests", got, err, *requests-before)
	}
	// A set but wrong environment variable is an error, not a download.
	t.Setenv("CIFARNET_TEST_TWO", "/nonexistent/two")
	if _, err := p.Find(context.Background(), "", false, nil); err == nil || !strings.Contains(err.Error(), "$CIFARNET_TEST_TWO=/nonexistent/two") {
		t.Fatalf("wrong env: %v", err)
	}
}

func TestDownloadChecksAndMirrors(t *testing.T) {
	cache, _ := home(t)
	p, _, _ := twoFiles(t)
	good := p.Files[1].URL
	// A wrong SHA-256: refused, nothing left in place.
	p.Files[1].SHA256 = sha([]byte("something else"))
	if _, err := p.Download(context.Background(), "", nil); err == nil || !strings.Contains(err.Error(), "SHA-256") || !strings.Contains(err.Error(), "deleted") {
		t.Fatalf("bad checksum: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cache, "two", "b.gz")); !os.IsNotExist(err) {
		t.Fatal("a file failing its checksum was left in the cache")
	}
	// A mirror folder: each file's name is appended.
	p2, _, _ := twoFiles(t)
	mirror := strings.TrimSuffix(good, "b.gz")
	for i := range p2.Files {
		p2.Files[i].URL = "http://127.0.0.1:1/unreachable/" + p2.Files[i].Name
	}
	if got, err := p2.Download(context.Background(), mirror, nil); err != nil || got != filepath.Join(cache, "two") {
		t.Fatalf("mirror %s: %q %v", mirror, got, err)
	}
	// No download known: a clear error.
	if _, err := (Places{Title: "None", Want: "its files"}).Download(context.Background(), "", nil); err == nil || !strings.Contains(err.Error(), "no download known") {
		t.Fatalf("no files: %v", err)
	}
}

// TestFailedDownloadSaysWhatToDo: when the data is nowhere and the download
// fails (no network), the error names the places looked at and --data, not
// only the network error; and the cache directory the failed download
// created (holding only its lock) is not taken for the data afterwards
// (offline, fashion_mnist said "…/fashion-mnist/train-images-idx3-ubyte:
// missing" instead of "no data found").
func TestFailedDownloadSaysWhatToDo(t *testing.T) {
	cache, keras := home(t)
	p, _, _ := twoFiles(t)
	for i := range p.Files {
		p.Files[i].URL += ".gone" // 404
	}
	_, err := p.Find(context.Background(), "", false, nil)
	if err == nil || !strings.Contains(err.Error(), "no Two data found (looked at ") || !strings.Contains(err.Error(), filepath.Join(keras, "two-keras")) ||
		!strings.Contains(err.Error(), "the download failed: ") || !strings.HasSuffix(err.Error(), "; pass --data with a directory of a.gz and b.gz") {
		t.Fatalf("failed download: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(cache, "two")); len(entries) == 0 {
		t.Fatal("the failed download left nothing in the cache: this test no longer tests the leftovers")
	}
	_, err = p.Find(context.Background(), "", true, nil)
	if err == nil || !strings.Contains(err.Error(), "no Two data found") || !strings.Contains(err.Error(), "offline") {
		t.Fatalf("offline after a failed download: %v", err)
	}
	// A directory with data in it beside the leftovers is found.
	os.WriteFile(filepath.Join(cache, "two", "a.gz"), []byte("a"), 0o644)
	if got, err := p.Find(context.Background(), "", true, nil); err != nil || got != filepath.Join(cache, "two") {
		t.Fatalf("cache with a file: %q %v", got, err)
	}
}
