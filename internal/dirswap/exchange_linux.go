//go:build linux

package dirswap

import (
	"os"

	"golang.org/x/sys/unix"
)

// exchange uses renameat2(RENAME_EXCHANGE): atomic.
func exchange(a, b string) error {
	if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
		return &os.LinkError{Op: "exchange", Old: a, New: b, Err: err}
	}
	return nil
}
