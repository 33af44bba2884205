//go:build !linux

package rundir

// freeBytes is unknown here: checkDisk checks nothing.
func freeBytes(dir string) (int64, bool) { return 0, false }
