// Package lockfile holds an exclusive advisory lock (flock) on a file, so
// that one process at a time owns what the file guards: a run directory, a
// download into a cache. The kernel releases the lock when the process
// ends, however it ends, so a killed process never leaves a stale lock.
package lockfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cifarnet/cifarnet/internal/regular"
)

// ErrHeld is returned by TryLock when another holder has the lock.
var ErrHeld = errors.New("locked by another process")

// Lock is a held lock; Unlock releases it.
type Lock struct{ f *os.File }

// TryLock takes the lock on name (created if missing) or fails at once
// with ErrHeld.
func TryLock(name string) (*Lock, error) { return take(name, exclusive, false) }

// TryShared takes a shared lock on name (created if missing), which any
// number of holders may have at once, or fails at once with ErrHeld while
// an exclusive one is held.
func TryShared(name string) (*Lock, error) { return take(name, shared, false) }

// Block takes the lock on name, waiting (without polling) while another
// holder has it: for locks held for a moment.
func Block(name string) (*Lock, error) { return take(name, exclusive, true) }

func take(name string, how int, wait bool) (*Lock, error) {
	for range 100 {
		// Never through a symbolic link: a lock file is the guarded
		// directory's own.
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|noFollow, 0o644)
		if err != nil {
			if fi, lerr := os.Lstat(name); isLink(err) || (lerr == nil && !fi.Mode().IsRegular()) {
				return nil, notRegular(name, fi) // a link, a directory: not "is a directory" alone
			}
			return nil, err
		}
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			f.Close()
			if err != nil {
				return nil, err
			}
			return nil, notRegular(name, fi)
		}
		if err := flock(f, how, wait); err != nil {
			f.Close()
			return nil, err
		}
		// The lock holds only while name is still the file locked: one
		// removed or replaced between the open and the lock (another
		// holder's rename, a cleanup) is opened again.
		if now, err := os.Stat(name); err == nil && os.SameFile(fi, now) {
			return &Lock{f}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("lock file %s keeps being replaced", filepath.Base(name))
}

// notRegular says that the lock file name is not a regular file: what
// Lstat found (fi), or a symbolic link where fi is nil or one.
func notRegular(name string, fi os.FileInfo) error {
	kind := "a symbolic link"
	if fi != nil && fi.Mode()&os.ModeSymlink == 0 {
		kind = regular.Kind(fi.Mode())
	}
	return fmt.Errorf("lock file %s is %s, not a regular file: remove it", filepath.Base(name), kind)
}

// Wait takes the lock on name, waiting while another holder has it, until
// ctx ends.
func Wait(ctx context.Context, name string) (*Lock, error) {
	for {
		l, err := TryLock(name)
		if !errors.Is(err, ErrHeld) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
