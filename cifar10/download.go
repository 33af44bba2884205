package cifar10

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cifarnet/cifarnet/internal/oserr"
)

// The official binary archive (see ../shared/README.md).
const (
	ArchiveURL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
	ArchiveMD5 = "c32a1d4ab5d03f1284b67883e8d87530"
)

// Downloader fetches an archive into a cache directory the way Keras's
// get_file does, and more carefully: the download goes to a ".part" file,
// an interrupted one resumes with an HTTP Range request, the size is checked
// against what the server announced and the MD5 against the known sum, and
// only a verified file is renamed into place. A file that fails the checksum
// is deleted.
type Downloader struct {
	URL    string
	MD5    string       // hex; empty skips the check
	Client *http.Client // nil: a client without overall timeout
	// Stall aborts a download when no byte arrives for this long (0: 30 s).
	Stall time.Duration
	// Progress, if non-nil, is told the bytes done and the total (-1 if
	// unknown) as the download proceeds.
	Progress func(done, total int64)
}

// Fetch downloads d.URL to dest (a file path in an existing directory). A
// complete, verified dest is left as it is.
func (d *Downloader) Fetch(ctx context.Context, dest string) error {
	if d.MD5 != "" {
		if sum, err := fileMD5(dest); err == nil && sum == d.MD5 {
			return nil
		}
	}
	part := dest + ".part"
	var offset int64
	if fi, err := os.Stat(part); err == nil {
		offset = fi.Size()
	}
	stall := d.Stall
	if stall <= 0 {
		stall = 30 * time.Second
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return fmt.Errorf("download %s: %v", d.URL, err)
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
		return fmt.Errorf("download %s: %v", d.URL, err)
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
			return fmt.Errorf("download %s: server resumed at %q, want byte %d", d.URL, resp.Header.Get("Content-Range"), offset)
		}
		flags |= os.O_APPEND
		total = size
	case http.StatusRequestedRangeNotSatisfiable: // the part is stale: start over
		os.Remove(part)
		return d.Fetch(ctx, dest)
	default:
		return fmt.Errorf("download %s: HTTP %s", d.URL, resp.Status)
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	body := &stallReader{r: resp.Body, stall: stall, cancel: cancel}
	done := offset
	buf := make([]byte, 256<<10)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				f.Close()
				return fmt.Errorf("download: writing %s: %w", part, err)
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
			if cause := context.Cause(ctx); errors.Is(cause, errStalled) {
				rerr = cause
			}
			return fmt.Errorf("download %s: %v after %d bytes (run again to resume)", d.URL, rerr, done)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("download: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if total >= 0 && done != total {
		return fmt.Errorf("download %s: got %d bytes, the server announced %d (run again to resume)", d.URL, done, total)
	}
	if d.MD5 != "" {
		sum, err := fileMD5(part)
		if err != nil {
			return fmt.Errorf("download: %w", err)
		}
		if sum != d.MD5 {
			os.Remove(part)
			return fmt.Errorf("download %s: MD5 %s, want %s: the file is corrupt and was deleted", d.URL, sum, d.MD5)
		}
	}
	if err := os.Rename(part, dest); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	return nil
}

var errStalled = errors.New("stalled: no data received")

// stallReader cancels the request when a read waits longer than stall.
type stallReader struct {
	r      io.Reader
	stall  time.Duration
	cancel context.CancelCauseFunc
}

func (s *stallReader) Read(p []byte) (int, error) {
	t := time.AfterFunc(s.stall, func() { s.cancel(fmt.Errorf("%w for %v", errStalled, s.stall)) })
	defer t.Stop()
	return s.r.Read(p)
}

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

func fileMD5(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// EnsureCached returns the path of the archive in cacheDir, downloading it
// with d first if it is not there.
func EnsureCached(ctx context.Context, d *Downloader, cacheDir string) (string, error) {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("cache %s: %w", cacheDir, oserr.Bare(err))
	}
	dest := filepath.Join(cacheDir, ArchiveName)
	if err := d.Fetch(ctx, dest); err != nil {
		return "", err
	}
	return dest, nil
}
