package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/cifarnet/cifarnet/internal/tmpfs"
)

// leaveFree fills the disk at dir so that only about free bytes stay
// available, and returns a function that empties it again.
func leaveFree(t *testing.T, dir string, free int64) func() {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * st.Bsize
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n := avail - free; n > 0 {
		if err := unix.Fallocate(int(f.Fd()), 0, 0, n); err != nil {
			t.Fatalf("fill the disk: %v", err)
		}
	}
	return func() { os.Remove(name) }
}

// snapshot maps every file under dir (but the filler) to its SHA-256.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "filler" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// checkFailedCleanly checks what a command that ran out of disk left: a
// non-zero exit, one line on stderr saying so, no temporary file or
// staging directory anywhere on the disk, and every file that was there
// before unchanged.
func checkFailedCleanly(t *testing.T, what, disk string, before map[string]string, stderr string, code int) map[string]string {
	t.Helper()
	if code == 0 || code == -1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "no space left on device") || strings.Contains(stderr, "goroutine") {
		t.Errorf("%s: exit %d, stderr %q: want a non-zero exit and one line saying the disk is full", what, code, stderr)
	}
	after := snapshot(t, disk)
	for name, sum := range before {
		if after[name] != sum {
			t.Errorf("%s: %s changed or disappeared", what, name)
		}
	}
	filepath.WalkDir(disk, func(p string, d fs.DirEntry, err error) error {
		if err == nil && (strings.Contains(d.Name(), ".tmp") || strings.Contains(d.Name(), ".staging-") || strings.HasPrefix(d.Name(), ".probe")) {
			t.Errorf("%s: left %s", what, p)
		}
		return nil
	})
	return after
}

// TestFullDisk fills a real (tmpfs) disk at points through each command's
// writes: train into a new directory, train --overwrite, a training
// checkpoint (--backup-and-restore), evaluate, export and an experiment.
// Each fails with one line and a non-zero exit, leaves no temporary, and
// loses or mixes nothing that was there: the old run stays whole, and a
// new run's model, once written, is whole and usable.
func TestFullDisk(t *testing.T) {
	// Past the check that refuses a run its disk cannot hold
	// (TestTrainRefusedOnASmallDisk), to fill the disk in the middle of
	// the writes.
	t.Setenv("CIFARNET_DISK_CHECK", "off")
	data := sharedData(t)
	disk := tmpfs.Mount(t, 16<<20)
	small := []string{"--data", data, "--train-samples", "500", "--test-samples", "100", "--hidden", "16", "-q"}
	run1 := filepath.Join(disk, "R")
	if _, stderr, code := run(t, append([]string{"train", "--out", run1, "--epochs", "2"}, small...)...); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	image := filepath.Join(t.TempDir(), "image.png")
	if b, err := os.ReadFile(filepath.Join(run1, "samples.png")); err != nil || os.WriteFile(image, b, 0o644) != nil {
		t.Fatal(err)
	}
	runSize := int64(0)
	filepath.WalkDir(run1, func(p string, d fs.DirEntry, err error) error {
		if fi, err := d.Info(); err == nil && !d.IsDir() {
			runSize += fi.Size()
		}
		return nil
	})

	// The disk fills at several points of a run's files.
	for _, frac := range []float64{0, 0.05, 0.2, 0.5, 0.8} {
		free := int64(frac * float64(runSize))

		empty := leaveFree(t, disk, free)
		before := snapshot(t, disk)
		_, stderr, code := run(t, append([]string{"train", "--out", run1, "--overwrite", "--epochs", "1", "--seed", "9"}, small...)...)
		checkFailedCleanly(t, fmt.Sprintf("train --overwrite with %d bytes free", free), disk, before, stderr, code)
		empty()

		// A new directory: whatever was written before the disk filled
		// stays, and a model written is whole.
		run2 := filepath.Join(disk, fmt.Sprintf("new-%d", free))
		empty = leaveFree(t, disk, free)
		before = snapshot(t, disk)
		_, stderr, code = run(t, append([]string{"train", "--out", run2, "--epochs", "1"}, small...)...)
		checkFailedCleanly(t, fmt.Sprintf("train into a new directory with %d bytes free", free), disk, before, stderr, code)
		empty()
		if _, err := os.Stat(filepath.Join(run2, "model.json")); err == nil {
			if !strings.Contains(stderr, "the trained model is saved in") {
				t.Errorf("new run with %d bytes free: the model is saved but the error does not say so: %q", free, stderr)
			}
			if _, stderr, code := run(t, "predict", "--model", run2, image); code != 0 {
				t.Errorf("the model a full disk left in %s: predict: exit %d: %s", run2, code, stderr)
			}
		}
		os.RemoveAll(run2)
	}

	// A checkpoint written while training (Keras's BackupAndRestore).
	empty := leaveFree(t, disk, 4096)
	before := snapshot(t, disk)
	_, stderr, code := run(t, append([]string{"train", "--out", filepath.Join(disk, "backed"), "--epochs", "3", "--backup-and-restore", "epoch"}, small...)...)
	checkFailedCleanly(t, "train --backup-and-restore epoch", disk, before, stderr, code)
	empty()
	os.RemoveAll(filepath.Join(disk, "backed"))

	// evaluate: the figures are printed, evaluation.json is not written
	// half; an earlier one stays.
	if _, stderr, code := run(t, "evaluate", "--model", run1, "--data", data, "--test-samples", "100"); code != 0 {
		t.Fatalf("evaluate: exit %d: %s", code, stderr)
	}
	empty = leaveFree(t, disk, 0)
	before = snapshot(t, disk)
	stdout, stderr, code := run(t, "evaluate", "--model", run1, "--data", data, "--test-samples", "100")
	checkFailedCleanly(t, "evaluate", disk, before, stderr, code)
	if !strings.Contains(stdout, "Test accuracy") {
		t.Errorf("evaluate on a full disk did not print its figures: %q", stdout)
	}
	empty()

	// export: no partial .onnx file.
	empty = leaveFree(t, disk, 4096)
	before = snapshot(t, disk)
	_, stderr, code = run(t, "export", "--model", run1, "--out", filepath.Join(disk, "model.onnx"))
	checkFailedCleanly(t, "export", disk, before, stderr, code)
	if _, err := os.Stat(filepath.Join(disk, "model.onnx")); err == nil {
		t.Error("export on a full disk left model.onnx")
	}
	empty()

	// An experiment: its runs and summary files. A run it did not finish
	// (no report.html) is trained again next time; the finished ones stay.
	for _, frac := range []float64{0.3, 1.5} {
		free := int64(frac * float64(runSize))
		empty = leaveFree(t, disk, free)
		before = snapshot(t, disk)
		for name := range before {
			if parts := strings.Split(name, string(filepath.Separator)); len(parts) > 3 && parts[0] == "E" && parts[1] == "runs" {
				if _, ok := before[filepath.Join(parts[0], parts[1], parts[2], "report.html")]; !ok {
					delete(before, name)
				}
			}
		}
		_, stderr, code = run(t, "experiment", "--dir", filepath.Join(disk, "E"), "--seeds", "0-1", "--epochs", "1", "--data", data,
			"--train-samples", "500", "--test-samples", "100", "--hidden", "16", "-q")
		checkFailedCleanly(t, fmt.Sprintf("experiment with %d bytes free", free), disk, before, stderr, code)
		empty()
	}
	if _, stderr, code := run(t, "experiment", "--dir", filepath.Join(disk, "E"), "--seeds", "0-1", "--epochs", "1", "--data", data,
		"--train-samples", "500", "--test-samples", "100", "--hidden", "16", "-q"); code != 0 {
		t.Errorf("the experiment, continued on an emptied disk: exit %d: %s", code, stderr)
	}
}

// TestTrainRefusedOnASmallDisk: a run whose files a disk cannot hold is
// refused before it trains, in one line saying so, and leaves nothing.
func TestTrainRefusedOnASmallDisk(t *testing.T) {
	data := sharedData(t)
	disk := tmpfs.Mount(t, 1<<20)
	before := snapshot(t, disk)
	_, stderr, code := run(t, "train", "--data", data, "--train-samples", "500", "--test-samples", "100", "--epochs", "50", "--out", filepath.Join(disk, "run"), "-q")
	checkFailedCleanly(t, "train on a 1 MB disk", disk, before, stderr, code)
	if !strings.Contains(stderr, "they need about") {
		t.Errorf("stderr %q: want it to say how much the run needs", stderr)
	}
	if ents, _ := os.ReadDir(disk); len(ents) != 0 {
		t.Errorf("left on the disk: %v", ents)
	}
}
