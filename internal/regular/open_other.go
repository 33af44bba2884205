//go:build !unix

package regular

import (
	"fmt"
	"os"
)

// openNonblock refuses what is not a regular file before opening it (on
// systems without O_NONBLOCK there is a small window between the two).
func openNonblock(name string) (*os.File, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w (%s)", ErrNotRegular, Kind(fi.Mode()))}
	}
	return os.Open(name)
}
