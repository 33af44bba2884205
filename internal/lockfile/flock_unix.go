//go:build unix

package lockfile

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// noFollow makes the open fail on a symbolic link, with ELOOP (isLink).
const noFollow = unix.O_NOFOLLOW

func isLink(err error) bool { return errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EMLINK) } // EMLINK: FreeBSD's

// Kinds of lock, as flock(2) takes them.
const (
	exclusive = unix.LOCK_EX
	shared    = unix.LOCK_SH
)

func flock(f *os.File, how int, wait bool) error {
	if !wait {
		how |= unix.LOCK_NB
	}
	for {
		err := unix.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return ErrHeld
		}
		return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
}
