package rundir

import "golang.org/x/sys/unix"

// freeBytes returns the space an unprivileged process may still write on
// the file system holding dir.
func freeBytes(dir string) (int64, bool) {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return 0, false
	}
	return int64(st.Bavail) * st.Bsize, true
}
