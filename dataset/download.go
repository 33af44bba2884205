package dataset

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cifarnet/cifarnet/internal/lockfile"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/quote"
	"github.com/cifarnet/cifarnet/internal/regular"
)

// Defaults of a Downloader's bounds.
const (
	DefaultStall    = 30 * time.Second
	DefaultTimeout  = 2 * time.Hour
	DefaultAttempts = 3
	// DefaultMaxSize bounds a download whose size is not known.
	DefaultMaxSize = 4 << 30
	// MinStallBytes is the least a download must receive in each Stall
	// window: a server trickling a byte now and then is given up on.
	MinStallBytes = 1024
)

// Downloader fetches a data set's file into a cache directory the way
// Keras's get_file does, and more carefully: the download goes to a ".part"
// file, an interrupted one resumes with an HTTP Range request, the size is
// checked against the known size and what the server announced, the
// checksum (SHA-256 or MD5) against the published one, and only a verified
// file is renamed into place. A file that
// fails the checksum is deleted. Everything is bounded: the number of
// requests, the bytes accepted, the total time and the time without
// progress. Two processes downloading into one cache take turns (a lock
// file beside the download); the second finds the first's verified file.
type Downloader struct {
	URL string
	// SHA256 and MD5 are the published checksums in hex: the SHA-256 is
	// checked when given, else the MD5; with neither nothing is checked.
	SHA256 string
	MD5    string
	// Size is the file's exact size in bytes (0: unknown, then at most
	// MaxSize is accepted). A server announcing or sending more is refused.
	Size int64
	// MaxSize bounds a file of unknown size (0: DefaultMaxSize).
	MaxSize int64
	Client  *http.Client // nil: a client without overall timeout
	// Stall aborts a download that receives fewer than MinStallBytes
	// within this long (0: DefaultStall).
	Stall time.Duration
	// Timeout bounds the whole Fetch, waiting for another process's
	// download included (0: DefaultTimeout).
	Timeout time.Duration
	// Attempts bounds the requests of one Fetch (0: DefaultAttempts): a
	// stale partial file answered with 416 is restarted, not forever.
	Attempts int
	// Progress, if non-nil, is told the bytes done and the total (-1 if
	// unknown) as the download proceeds.
	Progress func(done, total int64)
}

// Fetch downloads d.URL to dest (a file path in an existing directory). A
// complete, verified dest is left as it is.
func (d *Downloader) Fetch(ctx context.Context, dest string) error {
	if d.verified(dest) {
		return nil
	}
	timeout := cmp.Or(d.Timeout, DefaultTimeout)
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("%w: gave up after %v", errTimeout, timeout))
	defer cancel()
	lock, err := lockfile.Wait(ctx, dest+".lock")
	if err != nil {
		return fmt.Errorf("download %s: waiting for another download into %s: %w", d.URL, filepath.Dir(dest), oserr.Bare(err))
	}
	defer lock.Unlock()
	// Another process may have finished the file while this one waited.
	if d.verified(dest) {
		return nil
	}
	attempts := cmp.Or(d.Attempts, DefaultAttempts)
	for i := 1; ; i++ {
		restart, err := d.attempt(ctx, dest)
		if !restart {
			return err
		}
		if i >= attempts {
			return fmt.Errorf("download %s: the server refused to resume or restart %d times (HTTP 416); giving up", d.URL, attempts)
		}
	}
}

// verified tells whether dest is already the complete, verified file.
func (d *Downloader) verified(dest string) bool {
	algo, want := d.checksum()
	if want == "" {
		return false
	}
	sum, err := fileSum(algo, dest)
	return err == nil && sum == want
}

// checksum is the checksum to verify: its algorithm and hex value (empty:
// none).
func (d *Downloader) checksum() (algo, want string) {
	if d.SHA256 != "" {
		return "SHA-256", strings.ToLower(d.SHA256)
	}
	return "MD5", strings.ToLower(d.MD5)
}

// limit is the most bytes the file may have.
func (d *Downloader) limit() int64 {
	if d.Size > 0 {
		return d.Size
	}
	return cmp.Or(d.MaxSize, DefaultMaxSize)
}

// attempt makes one request, continuing the ".part" file where it can.
// restart reports a stale part that the server would not resume (416),
// now deleted.
func (d *Downloader) attempt(ctx context.Context, dest string) (restart bool, err error) {
	part := dest + ".part"
	var offset int64
	if fi, err := os.Stat(part); err == nil {
		offset = fi.Size()
		if offset > d.limit() {
			os.Remove(part)
			offset = 0
		}
	}
	stall := cmp.Or(d.Stall, DefaultStall)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return false, fmt.Errorf("download %s: %v", d.URL, err)
	}
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	client := d.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: stall}}
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Errorf("download %s: %w", d.URL, d.cause(ctx, err))
	}
	defer resp.Body.Close()

	var total int64 = -1
	flags := os.O_CREATE | os.O_WRONLY
	switch resp.StatusCode {
	case http.StatusOK: // a fresh start, whatever was there
		offset = 0
		flags |= os.O_TRUNC
		total = resp.ContentLength
	case http.StatusPartialContent:
		start, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != offset {
			return false, fmt.Errorf("download %s: server resumed at %s, want byte %d", d.URL, quote.Short(resp.Header.Get("Content-Range")), offset)
		}
		flags |= os.O_APPEND
		total = size
	case http.StatusRequestedRangeNotSatisfiable: // the part is stale: start over
		os.Remove(part)
		return true, nil
	default:
		return false, fmt.Errorf("download %s: HTTP %s", d.URL, quote.Line(resp.Status, quote.Max))
	}
	if total > d.limit() || d.Size > 0 && total >= 0 && total != d.Size {
		return false, fmt.Errorf("download %s: the server announces %d bytes, the file has %s; refused", d.URL, total, d.sizeWords())
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return false, fmt.Errorf("download: %w", err)
	}
	watch := newWatchdog(stall, cancel)
	defer watch.stop()
	done := offset
	buf := make([]byte, 256<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			watch.add(n)
			if done+int64(n) > d.limit() {
				f.Close()
				os.Remove(part)
				return false, fmt.Errorf("download %s: the server sent more than the %s; refused and deleted", d.URL, d.sizeWords())
			}
			if _, err := f.Write(buf[:n]); err != nil {
				f.Close()
				return false, fmt.Errorf("download: writing %s: %w", part, oserr.Bare(err))
			}
			done += int64(n)
			if d.Progress != nil {
				d.Progress(done, total)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			f.Close()
			return false, fmt.Errorf("download %s: %v after %d bytes (run again to resume)", d.URL, d.cause(ctx, rerr), done)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return false, fmt.Errorf("download: %w", err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("download: %w", err)
	}
	if total >= 0 && done != total {
		return false, fmt.Errorf("download %s: got %d bytes, the server announced %d (run again to resume)", d.URL, done, total)
	}
	if algo, want := d.checksum(); want != "" {
		sum, err := fileSum(algo, part)
		if err != nil {
			return false, fmt.Errorf("download: %w", err)
		}
		if sum != want {
			os.Remove(part)
			return false, fmt.Errorf("download %s: %s %s, want %s: the file is corrupt and was deleted", d.URL, algo, sum, want)
		}
	}
	if err := os.Rename(part, dest); err != nil {
		return false, fmt.Errorf("download: %w", err)
	}
	return false, nil
}

// sizeWords describes the size limit in an error.
func (d *Downloader) sizeWords() string {
	if d.Size > 0 {
		return fmt.Sprintf("known size of %d bytes", d.Size)
	}
	return fmt.Sprintf("limit of %d bytes", d.limit())
}

// cause replaces a transport error by the reason the request was cancelled
// (stalled, timed out), when it was.
func (d *Downloader) cause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil && (errors.Is(c, errStalled) || errors.Is(c, errTimeout)) {
		return c
	}
	return err
}

var errTimeout = errors.New("timed out")

var errStalled = errors.New("stalled: too little data received")

// watchdog cancels a download that receives fewer than MinStallBytes in
// a window of stall.
type watchdog struct {
	got  atomic.Int64
	done chan struct{}
}

func newWatchdog(stall time.Duration, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{done: make(chan struct{})}
	go func() {
		t := time.NewTicker(stall)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
				if got := w.got.Swap(0); got < MinStallBytes {
					cancel(fmt.Errorf("%w: %d bytes in %v", errStalled, got, stall))
					return
				}
			}
		}
	}()
	return w
}

func (w *watchdog) add(n int) { w.got.Add(int64(n)) }
func (w *watchdog) stop()     { close(w.done) }

// parseContentRange parses "bytes START-END/SIZE".
func parseContentRange(v string) (start, size int64, ok bool) {
	v, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, sz, found := strings.Cut(v, "/")
	if !found {
		return 0, 0, false
	}
	s, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(s, 10, 64)
	size, err2 := strconv.ParseInt(sz, 10, 64)
	if err1 != nil {
		return 0, 0, false
	}
	if err2 != nil {
		size = -1 // "*": unknown
	}
	return start, size, true
}

// fileSum is the checksum of a file, in hex: algo is "SHA-256" or "MD5".
func fileSum(algo, name string) (string, error) {
	f, err := regular.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if algo == "SHA-256" {
		h = sha256.New()
	}
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FileSHA256 is the SHA-256 of the regular file name's content, in hex.
func FileSHA256(name string) (string, error) { return fileSum("SHA-256", name) }

// Get returns the path of the file name in dir, downloading it with d
// first if it is not there (dir is created if need be).
func Get(ctx context.Context, d *Downloader, dir, name string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cache %s: %w", dir, oserr.Bare(err))
	}
	dest := filepath.Join(dir, name)
	if err := d.Fetch(ctx, dest); err != nil {
		return "", err
	}
	return dest, nil
}
