package tmpfs

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Mount mounts a tmpfs of size bytes in a temporary directory, returns
// it, and unmounts it when the test ends. It needs root (CI runs as
// root): it skips the test elsewhere, unless $CIFARNET_REQUIRE_MOUNT is
// set (CI sets it), where it fails it.
func Mount(t testing.TB, size int64) string {
	t.Helper()
	skip := t.Skipf
	if os.Getenv("CIFARNET_REQUIRE_MOUNT") != "" {
		skip = t.Fatalf
	}
	if os.Geteuid() != 0 {
		skip("a small disk needs a tmpfs mount, which needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		skip("mount a tmpfs: %v", err)
	}
	// Registered after TempDir's cleanup, so it runs before it.
	t.Cleanup(func() {
		if unix.Unmount(dir, 0) != nil {
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}
