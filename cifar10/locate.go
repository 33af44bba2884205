package cifar10

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// Locate returns the directory or archive to load from. An explicit path is
// returned as it is (Load reports if it is unusable); otherwise $CIFARNET_DATA,
// then the cache directory (an extracted cifar-10-batches-bin, then the
// archive). The error lists every place that was looked at.
func Locate(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if env := os.Getenv(EnvVar); env != "" {
		return env, nil
	}
	var tried []string
	if cache, err := CacheDir(); err == nil {
		for _, p := range []string{filepath.Join(cache, DirName), filepath.Join(cache, ArchiveName)} {
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			tried = append(tried, p)
		}
	}
	return "", fmt.Errorf("cifar10: no data found (looked at --data, $%s, %s): pass --data with a %s directory or %s",
		EnvVar, strings.Join(tried, ", "), DirName, ArchiveName)
}

// ReadClassNames reads batches.meta.txt from a data directory, falling back
// to ClassNames when the file is absent (as inside an archive read).
func ReadClassNames(dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, MetaFile))
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
