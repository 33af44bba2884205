package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cifarnet/cifarnet/internal/tmpfs"
)

// TestRefusedWhenTheDiskCannotHoldTheRun: on a disk too small for the
// run's files (a 2 MB tmpfs: the report alone takes about 3 MB), Train
// refuses before training, saying how much is free and needed, and leaves
// nothing behind; where they fit, the check lets the run through.
func TestRefusedWhenTheDiskCannotHoldTheRun(t *testing.T) {
	src := sharedData(t)
	disk := tmpfs.Mount(t, 2<<20)
	cfg := small()
	cfg.Epochs = 50 // refused before any of it
	start := time.Now()
	_, err := Train(Options{Config: cfg, Dir: filepath.Join(disk, "run"), Source: src})
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "no space left on device for the run's files: they need about") {
		t.Fatalf("a run on a 2 MB disk: %v, want it refused for want of space", err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("refused after %v: it trained first", took)
	}
	if ents, _ := os.ReadDir(disk); len(ents) != 0 {
		t.Errorf("left on the disk: %v", ents)
	}
	// The same run where the space is.
	if err := checkDisk(t.TempDir(), cfg, true); err != nil {
		t.Errorf("on the test's temporary disk: %v", err)
	}
}
