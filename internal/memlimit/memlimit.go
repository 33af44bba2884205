// Package memlimit tells how much memory this process may still use, so
// that a configuration too large for the machine is refused before it is
// allocated rather than killed by the kernel half-way.
package memlimit

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Available returns the bytes this process can expect to allocate: the
// least of the system's available memory, the cgroup's remaining limit,
// the address-space limit (ulimit -v) and $GOMEMLIMIT, where each is known;
// math.MaxInt64 where none is.
func Available() int64 {
	avail := int64(math.MaxInt64)
	if v, ok := meminfoAvailable(); ok {
		avail = min(avail, v)
	}
	if v, ok := cgroupRemaining(); ok {
		avail = min(avail, v)
	}
	if v, ok := addressSpace(); ok {
		avail = min(avail, v)
	}
	return min(avail, debug.SetMemoryLimit(-1)) // -1 reads $GOMEMLIMIT's value
}

func meminfoAvailable() (int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// cgroupRemaining reads cgroup v2's memory.max and memory.current.
func cgroupRemaining() (int64, bool) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		path, ok := bytes.CutPrefix(l, []byte("0::"))
		if !ok {
			continue
		}
		dir := "/sys/fs/cgroup" + string(path)
		maxB, err1 := os.ReadFile(dir + "/memory.max")
		curB, err2 := os.ReadFile(dir + "/memory.current")
		if err1 != nil || err2 != nil {
			return 0, false
		}
		limit, err1 := strconv.ParseInt(strings.TrimSpace(string(maxB)), 10, 64)
		cur, err2 := strconv.ParseInt(strings.TrimSpace(string(curB)), 10, 64)
		if err1 != nil || err2 != nil { // "max": no limit
			return 0, false
		}
		return max(limit-cur, 0), true
	}
	return 0, false
}

// Words formats a byte count for a message: "24.6 GB".
func Words(b float64) string {
	switch {
	case b >= 1e9:
		return fmt.Sprintf("%.1f GB", b/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.0f MB", b/1e6)
	}
	return fmt.Sprintf("%.0f kB", b/1e3)
}
