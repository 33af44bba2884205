package rundir

import "golang.org/x/sys/unix"

// freeBytes returns the space an unprivileged process may still write on
// the file system holding dir.
func freeBytes(dir string) (int64, bool) {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return 0, false
	}
	// f_bavail counts blocks of f_frsize (POSIX); the field types differ
	// between architectures.
	size := int64(st.Frsize)
	if size <= 0 {
		size = int64(st.Bsize)
	}
	return int64(st.Bavail) * size, true
}
