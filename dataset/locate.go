package dataset

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cifarnet/cifarnet/internal/oserr"
)

// Places says where a data set's files are looked for when no location is
// given, in this order: the environment variable, cifarnet's cache, Keras's
// cache; and where they are downloaded from when they are nowhere.
type Places struct {
	// Title names the data set in messages.
	Title string
	// EnvVar is the environment variable that points at the data.
	EnvVar string
	// Cache lists directories or files inside cifarnet's cache directory.
	Cache []string
	// Keras lists directories or files inside ~/.keras/datasets.
	Keras []string
	// Want says what --data should name, for the error when nothing is found.
	Want string
	// Files are the official files a download fetches into Dir, a
	// directory inside cifarnet's cache ("": the cache itself); Found is
	// what Find returns then, a path inside the cache.
	Files []Remote
	Dir   string
	Found string
}

// Remote is one official file: its name in the cache and the Downloader
// (address, checksum, size) that fetches it.
type Remote struct {
	Name string
	Downloader
}

// CacheDir returns cifarnet's cache directory, os.UserCacheDir()/cifarnet.
func CacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory: %v", err)
	}
	return filepath.Join(d, "cifarnet"), nil
}

// Destination is where Download puts the files, Found in cifarnet's
// cache, which Find looks at: files copied there by other means are found
// too.
func (p Places) Destination() (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, p.Found), nil
}

// Candidates lists, in order, the places looked at when no location is
// given.
func (p Places) Candidates() []string {
	var c []string
	if env := os.Getenv(p.EnvVar); env != "" {
		c = append(c, env)
	}
	if cache, err := CacheDir(); err == nil {
		for _, f := range p.Cache {
			c = append(c, filepath.Join(cache, f))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		for _, f := range p.Keras {
			c = append(c, filepath.Join(home, ".keras", "datasets", f))
		}
	}
	return c
}

// Locate returns the directory or file to load from without touching the
// network: the explicit path as it is (the loader reports if it is
// unusable), else the first of Candidates that exists. A set but wrong
// environment variable is an error, not a reason to look further; the
// error when nothing is found lists every place looked at.
func (p Places) Locate(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if env := os.Getenv(p.EnvVar); env != "" {
		if _, err := os.Stat(env); err != nil {
			return "", fmt.Errorf("$%s=%s: %w", p.EnvVar, env, oserr.Bare(err))
		}
		return env, nil
	}
	cands := p.Candidates()
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil && !onlyDownloadLeftovers(c) {
			return c, nil
		}
	}
	or := ""
	if len(p.Files) > 0 {
		or = ", or allow the download"
	}
	return "", &NotFoundError{fmt.Sprintf("no %s data found (looked at %s)", p.Title, strings.Join(cands, ", ")), "pass --data with " + p.Want + or}
}

// NotFoundError is Locate's error when the data is nowhere: what was
// looked at, then what to do.
type NotFoundError struct{ Looked, Do string }

func (e *NotFoundError) Error() string { return e.Looked + ": " + e.Do }

// onlyDownloadLeftovers reports whether dir is a directory holding nothing
// but what a failed download leaves (its lock and ".part" files): a cache
// directory that a download created and never filled is not data.
func onlyDownloadLeftovers(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return false
	}
	for _, e := range entries {
		if n := e.Name(); !strings.HasSuffix(n, ".lock") && !strings.HasSuffix(n, ".part") {
			return false
		}
	}
	return true
}

// Find is Locate that, when nothing is found and offline is false,
// downloads the official files into cifarnet's cache (see Download). A
// wrong environment variable is reported, not replaced by a download.
func (p Places) Find(ctx context.Context, explicit string, offline bool, progress func(file string) func(done, total int64)) (string, error) {
	src, err := p.Locate(explicit)
	switch {
	case err == nil:
		return src, nil
	case offline && len(p.Files) > 0:
		return "", fmt.Errorf("%v (offline: no download)", err)
	case offline, os.Getenv(p.EnvVar) != "", len(p.Files) == 0:
		return "", err
	}
	src, derr := p.Download(ctx, "", progress)
	if derr != nil {
		// Say where it was looked for and what to do, not only why the
		// download failed (no network is the common case).
		var nf *NotFoundError
		if errors.As(err, &nf) {
			return "", fmt.Errorf("%s, and the download failed: %w; pass --data with %s", nf.Looked, derr, p.Want)
		}
		return "", derr
	}
	return src, nil
}

// Download fetches every official file into cifarnet's cache unless it is
// there and verified, and returns the path Found names. url, if not empty,
// replaces the official address: the file's own for a data set of one
// file, else a folder the file names are appended to. progress (nil: none)
// gives each file's Progress.
func (p Places) Download(ctx context.Context, url string, progress func(file string) func(done, total int64)) (string, error) {
	if len(p.Files) == 0 {
		return "", fmt.Errorf("%s: no download known: pass --data with %s", p.Title, p.Want)
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, p.Dir)
	for _, f := range p.Files {
		d := f.Downloader
		switch {
		case url != "" && len(p.Files) == 1:
			d.URL = url
		case url != "":
			d.URL = strings.TrimSuffix(url, "/") + "/" + f.Name
		}
		if progress != nil && d.Progress == nil {
			d.Progress = progress(f.Name)
		}
		if _, err := Get(ctx, &d, dir, f.Name); err != nil {
			return "", err
		}
	}
	return filepath.Join(cache, p.Found), nil
}
