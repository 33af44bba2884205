//go:build unix

package regular

import (
	"os"
	"syscall"
)

// openNonblock opens name with O_NONBLOCK, so that opening a FIFO returns
// at once (O_NONBLOCK has no effect on the reads of a regular file).
func openNonblock(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
