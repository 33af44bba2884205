//go:build unix

package memlimit

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// addressSpace returns what is left of RLIMIT_AS: the limit less the
// address space the process maps already (the Go runtime reserves much of
// it at start, and every heap arena, stack and mapping counts), less a
// reserve for the runtime's own growth.
func addressSpace() (int64, bool) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_AS, &r); err != nil || r.Cur == unix.RLIM_INFINITY || r.Cur > 1<<62 {
		return 0, false
	}
	const reserve = 128 << 20
	used, ok := vmSize()
	if !ok {
		used = 256 << 20 // where /proc is not there: a typical start
	}
	return max(int64(r.Cur)-used-reserve, 0), true
}

// vmSize reads the process's mapped address space (Linux's VmSize).
func vmSize() (int64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmSize:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
