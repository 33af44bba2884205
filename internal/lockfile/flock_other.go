//go:build !unix

package lockfile

import "os"

const (
	exclusive = 2
	shared    = 1
)

// flock is a no-op where flock(2) does not exist: no exclusion there.
func flock(*os.File, int, bool) error { return nil }
