//go:build !unix

package lockfile

import "os"

const noFollow = 0

func isLink(error) bool { return false }

const (
	exclusive = 2
	shared    = 1
)

// flock is a no-op where flock(2) does not exist: no exclusion there.
func flock(*os.File, int, bool) error { return nil }
