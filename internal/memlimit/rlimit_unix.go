//go:build unix

package memlimit

import "golang.org/x/sys/unix"

// addressSpace returns RLIMIT_AS less a reserve for what the Go runtime
// maps beyond the heap (its arenas, stacks and the binary).
func addressSpace() (int64, bool) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_AS, &r); err != nil || r.Cur == unix.RLIM_INFINITY || r.Cur > 1<<62 {
		return 0, false
	}
	const reserve = 256 << 20
	return max(int64(r.Cur)-reserve, 0), true
}
