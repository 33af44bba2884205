package rundir

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cifarnet/cifarnet/train"
)

// reportBytes is about what a run's report, figures and history take on
// disk beside its model (about 3 MB for the exercise), with room to spare.
const reportBytes = 4 << 20

// checkDisk refuses, before any training, a run whose files the disk at
// dir cannot hold: otherwise the run trains for nothing and fails when it
// writes them. The estimate is the model's weights, the checkpoint when
// the run backs up (the weights, up to three optimizer slots or best
// weights each as large), and reportBytes. Where the free space cannot be
// read (freeBytes), nothing is checked.
//
// $CIFARNET_DISK_CHECK=off turns it off, for the tests that fill a disk in
// the middle of a run's writes.
func checkDisk(dir string, cfg train.Config, backup bool) error {
	if os.Getenv("CIFARNET_DISK_CHECK") == "off" {
		return nil
	}
	// The directory may not exist yet: its nearest existing parent is on
	// the same disk.
	at := filepath.Clean(dir)
	for {
		if _, err := os.Stat(at); err == nil {
			break
		}
		up := filepath.Dir(at)
		if up == at {
			return nil
		}
		at = up
	}
	free, ok := freeBytes(at)
	if !ok {
		return nil
	}
	mc, err := cfg.ModelConfig()
	if err != nil {
		return nil // Train reports it
	}
	weights := 4 * mc.Size().Variables
	need := weights + reportBytes
	what := fmt.Sprintf("the model %s and its report about %s", mb(weights), mb(reportBytes))
	if backup {
		// A checkpoint holds the weights, the optimizer's slots (up to
		// four: AMSGrad's three and the moving average) and the best
		// weights; a backup writes the new one beside the old before the
		// rename.
		ckpt := 2 * 6 * weights
		need += ckpt
		what += fmt.Sprintf(", its checkpoints up to %s", mb(ckpt))
	}
	// A checkpoint already there (a resume) is replaced or removed: its
	// space counts as free.
	if fi, err := os.Stat(filepath.Join(dir, train.CheckpointFile)); err == nil && fi.Mode().IsRegular() {
		free += fi.Size()
	}
	if float64(free) >= need {
		return nil
	}
	return &diskError{fmt.Sprintf("run %s: no space left on device for the run's files: they need about %s (%s) and its disk has %s free; free some space or give another directory", dir, mb(need), what, mb(float64(free)))}
}

// diskError is a run refused for want of space; it is syscall.ENOSPC.
type diskError struct{ msg string }

func (e *diskError) Error() string { return e.msg }
func (e *diskError) Unwrap() error { return syscall.ENOSPC }

// mb says a size in MB, one decimal.
func mb(b float64) string { return fmt.Sprintf("%.1f MB", b/1e6) }
