package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cifarnet/cifarnet/internal/oserr"
)

// Places says where a data set's files are looked for when no location is
// given, in this order: the environment variable, cifarnet's cache, Keras's
// cache.
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
}

// CacheDir returns cifarnet's cache directory, os.UserCacheDir()/cifarnet.
func CacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory: %v", err)
	}
	return filepath.Join(d, "cifarnet"), nil
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
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("no %s data found (looked at %s): pass --data with %s, or allow the download", p.Title, strings.Join(cands, ", "), p.Want)
}
