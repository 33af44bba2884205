//go:build !unix

package lockfile

import "os"

// flock is a no-op where flock(2) does not exist: no exclusion there.
func flock(*os.File) error { return nil }
