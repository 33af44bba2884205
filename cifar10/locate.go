package cifar10

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/regular"
)

// EnvVar names the environment variable that points at the data when no
// explicit location is given.
const EnvVar = "CIFARNET_DATA"

// CacheDir returns cifarnet's cache directory, os.UserCacheDir()/cifarnet.
func CacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cifar10: no user cache directory: %v", err)
	}
	return filepath.Join(d, "cifarnet"), nil
}

// Candidates lists, in order, the places looked at for the data when none
// is given: $CIFARNET_DATA, then cifarnet's cache (an extracted
// cifar-10-batches-bin, then the archive), then Keras's cache
// (~/.keras/datasets: cifar-10-batches-py, then cifar-10-python.tar.gz).
func Candidates() []string {
	var c []string
	if env := os.Getenv(EnvVar); env != "" {
		c = append(c, env)
	}
	if cache, err := CacheDir(); err == nil {
		c = append(c, filepath.Join(cache, DirName), filepath.Join(cache, ArchiveName))
	}
	if home, err := os.UserHomeDir(); err == nil {
		keras := filepath.Join(home, ".keras", "datasets")
		c = append(c, filepath.Join(keras, PyDirName), filepath.Join(keras, PyArchiveName))
	}
	return c
}

// Locate returns the directory or archive to load from without touching
// the network: the explicit path as it is (Load reports if it is
// unusable), else the first of Candidates that exists. The error lists
// every place looked at.
func Locate(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	cands := Candidates()
	for i, p := range cands {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if i == 0 && os.Getenv(EnvVar) == p {
			return "", fmt.Errorf("cifar10: $%s=%s: %w", EnvVar, p, oserr.Bare(err))
		}
	}
	return "", fmt.Errorf("cifar10: no data found (looked at %s): pass --data with a %s directory or %s, or allow the download",
		strings.Join(cands, ", "), DirName, ArchiveName)
}

// Find is Locate that, when nothing is found and offline is false,
// downloads the official archive into cifarnet's cache with d. A wrong
// $CIFARNET_DATA is reported, not replaced by a download.
func Find(ctx context.Context, explicit string, offline bool, d *Downloader) (string, error) {
	src, err := Locate(explicit)
	switch {
	case err == nil:
		return src, nil
	case offline:
		return "", fmt.Errorf("%v (offline: no download)", err)
	case os.Getenv(EnvVar) != "":
		return "", err
	}
	cache, cerr := CacheDir()
	if cerr != nil {
		return "", cerr
	}
	return EnsureCached(ctx, d, cache)
}

// ReadClassNames reads batches.meta.txt from a data directory, falling back
// to ClassNames when the file is absent (as inside an archive read).
func ReadClassNames(dir string) []string {
	b, err := regular.ReadFile(filepath.Join(dir, MetaFile), 1<<16)
	names := ClassNames[:]
	if err != nil {
		return names
	}
	var got []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			got = append(got, l)
		}
	}
	if len(got) != NumClasses {
		return names
	}
	return got
}
