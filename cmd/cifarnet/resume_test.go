package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// uninterrupted returns the train command these tests interrupt (six
// epochs of a small network) and the directory of the same run trained
// without interruption.
func uninterrupted(t *testing.T, data string) (args []string, full string) {
	t.Helper()
	args = []string{"train", "--data", data, "--train-samples", "2000", "--test-samples", "200", "--epochs", "6", "--patience", "-1", "--hidden", "64"}
	full = filepath.Join(t.TempDir(), "full")
	if _, stderr, code := run(t, append(args, "--out", full, "-q")...); code != 0 {
		t.Fatal(stderr)
	}
	return args, full
}

// TestSIGINTThenResume interrupts a training run with SIGINT once epoch 2
// has begun, checks what it leaves, resumes it, and compares the final
// model with an uninterrupted run's, byte for byte.
func TestSIGINTThenResume(t *testing.T) {
	data := sharedData(t)
	args, full := uninterrupted(t, data)

	dir := filepath.Join(t.TempDir(), "cut")
	stderr := interruptAtEpoch2(t, append(args, "--out", dir)...)
	if !strings.Contains(stderr, "checkpoint and history saved") || !strings.Contains(stderr, "--resume "+dir+" --data "+data) {
		t.Fatalf("stderr %q", stderr)
	}
	// Where it stopped, read right: "interrupted before epoch 2, step 52"
	// was read as 52 steps of epoch 2 done (2000 samples, 1600 to train
	// on, batches of 128: 13 steps an epoch).
	at := regexp.MustCompile(`interrupted (?:in epoch (\d+) after step (\d+) of 13|at the start of epoch (\d+)): checkpoint`).FindStringSubmatch(stderr)
	if at == nil {
		t.Fatalf("stderr %q, want where the run stopped", stderr)
	}
	epoch, step := at[1], 1
	if epoch == "" {
		epoch = at[3]
	} else {
		done, _ := strconv.Atoi(at[2])
		step = done + 1
	}
	continuing := fmt.Sprintf("Continuing from epoch %s, step %d of 13\n", epoch, step)
	for _, f := range []string{"checkpoint.safetensors", "history.json", "history.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("after the interrupt: %v", err)
		}
	}
	if _, stderr, code := run(t, append(args, "--out", dir)...); code != 2 || !strings.Contains(stderr, "--resume") {
		t.Fatalf("a new run into the interrupted directory: exit %d %q", code, stderr)
	}
	// A setting given with --resume would be ignored: it is refused, naming it.
	if _, stderr, code := run(t, "train", "--data", data, "--resume", dir, "--lr", "0.5", "-q"); code != 2 || !strings.Contains(stderr, "--lr") {
		t.Fatalf("--resume with --lr: exit %d %q", code, stderr)
	}
	stdout, stderr, code := run(t, "train", "--data", data, "--resume", dir)
	if code != 0 {
		t.Fatalf("resume: exit %d %s", code, stderr)
	}
	if i := strings.Index(stdout, continuing); i < 0 || i > strings.Index(stdout, "Epoch "+epoch+"/6") {
		t.Errorf("resume's stdout %q, want %q before the training", stdout, continuing)
	}
	sameRun(t, full, dir)
	if _, err := os.Stat(filepath.Join(dir, "checkpoint.safetensors")); !os.IsNotExist(err) {
		t.Error("the checkpoint was kept after the run finished")
	}
	// Resumes that cannot be say why (all said "no checkpoint: no such
	// file or directory").
	if _, stderr, code := run(t, "train", "--resume", dir, "-q"); code != 2 || !strings.Contains(stderr, dir+" holds a finished run: nothing to resume") {
		t.Errorf("--resume of a finished run: exit %d %q", code, stderr)
	}
	missing := filepath.Join(t.TempDir(), "none")
	if _, stderr, code := run(t, "train", "--resume", missing, "-q"); code != 1 || !strings.Contains(stderr, missing+": no such directory") {
		t.Errorf("--resume of a missing directory: exit %d %q", code, stderr)
	}
}

// TestResumeDamagedCheckpoint: a checkpoint whose tensor data was damaged
// (one byte at 1,000,000 flipped, or 16 bytes of 0xff there) is refused,
// naming the file; it was resumed silently, to another model or a NaN
// loss.
func TestResumeDamagedCheckpoint(t *testing.T) {
	data := sharedData(t)
	dir := filepath.Join(t.TempDir(), "cut")
	interruptAtEpoch2(t, "train", "--data", data, "--train-samples", "2000", "--test-samples", "200", "--epochs", "6", "--patience", "-1", "--out", dir)
	name := filepath.Join(dir, "checkpoint.safetensors")
	good, err := os.ReadFile(name)
	if err != nil || len(good) < 1_000_016 {
		t.Fatalf("checkpoint of %d bytes: %v", len(good), err)
	}
	for _, damage := range []func(b []byte){
		func(b []byte) { b[1_000_000] ^= 0x01 },
		func(b []byte) { copy(b[1_000_000:], bytes.Repeat([]byte{0xff}, 16)) },
	} {
		b := bytes.Clone(good)
		damage(b)
		os.WriteFile(name, b, 0o644)
		_, stderr, code := run(t, "train", "--resume", dir, "-q")
		if code != 1 || !strings.Contains(stderr, name+": the tensor data is damaged") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("resume from a damaged checkpoint: exit %d %q", code, stderr)
		}
	}
}

// interruptAtEpoch2 runs cifarnet with args (a train of 6 epochs), sends
// it SIGINT once epoch 2 has begun, checks that it exits with status 130,
// and returns its stderr.
func interruptAtEpoch2(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Epoch 2/6") {
			cmd.Process.Signal(os.Interrupt)
			break
		}
	}
	for sc.Scan() { // drain
	}
	err := cmd.Wait()
	var x *exec.ExitError
	if !errors.As(err, &x) || x.ExitCode() != 130 {
		t.Fatalf("interrupted run: %v, stderr %q", err, stderr.String())
	}
	return stderr.String()
}

// TestTrainBackupSIGKILLThenResume: with --backup-and-restore epoch, a
// training killed outright (SIGKILL: nothing saved at the kill) leaves its
// last epoch end's checkpoint, and --resume finishes it with the bits of a
// run never killed.
func TestTrainBackupSIGKILLThenResume(t *testing.T) {
	data := sharedData(t)
	args := []string{"train", "--data", data, "--train-samples", "2000", "--test-samples", "200", "--epochs", "8", "--patience", "3", "--hidden", "64", "-q"}
	full := filepath.Join(t.TempDir(), "full")
	if _, stderr, code := run(t, append(args, "--out", full)...); code != 0 {
		t.Fatal(stderr)
	}
	dir := filepath.Join(t.TempDir(), "killed")
	cmd := exec.Command(binary, append(args, "--out", dir, "--backup-and-restore", "epoch")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "checkpoint.safetensors")
	for i := 0; i < 100000; i++ { // polls for the file, up to about 5 minutes
		if _, err := os.Stat(ck); err == nil {
			break
		}
		time.Sleep(3 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(ck); err != nil {
		t.Fatalf("no backup before the kill: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "metrics.json")); err == nil {
		t.Fatal("the run finished before the kill")
	}
	if _, stderr, code := run(t, "train", "--data", data, "--resume", dir, "-q"); code != 0 {
		t.Fatalf("resume: exit %d %s", code, stderr)
	}
	sameRun(t, full, dir)
}

// sameRun fails the test unless the resumed run in dir has the model bytes,
// test loss and epochs of the uninterrupted run in full.
func sameRun(t *testing.T, full, dir string) {
	t.Helper()
	a, _ := os.ReadFile(filepath.Join(full, "model.safetensors"))
	b, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if len(a) == 0 || string(a) != string(b) {
		t.Fatal("the resumed run's model differs from the uninterrupted run's")
	}
	if ma, mb := readMetrics(t, full), readMetrics(t, dir); ma.TestLoss != mb.TestLoss || ma.EpochsRun != mb.EpochsRun {
		t.Fatalf("metrics differ: %+v vs %+v", ma.TestLoss, mb.TestLoss)
	}
}

// oldRun makes a finished run in dir (of other settings than args') and
// returns its files' contents, to check later that nothing of it changed.
func oldRun(t *testing.T, data, dir string) map[string]string {
	t.Helper()
	if _, stderr, code := run(t, "train", "--data", data, "--train-samples", "500", "--test-samples", "100", "--epochs", "1", "--hidden", "8", "--out", dir, "-q"); code != 0 {
		t.Fatal(stderr)
	}
	return dirFiles(t, dir)
}

// dirFiles maps each file of dir (its lock file aside) to its content.
func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range es {
		if e.Name() == ".cifarnet.lock" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

// sameFiles fails the test unless dir holds exactly the files of old.
func sameFiles(t *testing.T, dir string, old map[string]string) {
	t.Helper()
	now := dirFiles(t, dir)
	if len(now) != len(old) {
		t.Fatalf("%s holds %d files, the old run %d", dir, len(now), len(old))
	}
	for name, b := range old {
		if now[name] != b {
			t.Fatalf("%s: %s changed", dir, name)
		}
	}
}

// TestTrainOverwriteBackupSIGKILLThenRerun: "train --overwrite
// --backup-and-restore epoch" replacing an old run, SIGKILLed after its
// first backup, leaves the old run whole and the backup beside it; the
// same command again continues from the backup (not from the start) and
// gives the model bytes and metrics of an uninterrupted run; then the
// backup is gone.
func TestTrainOverwriteBackupSIGKILLThenRerun(t *testing.T) {
	data := sharedData(t)
	args := []string{"train", "--data", data, "--train-samples", "2000", "--test-samples", "200", "--epochs", "8", "--patience", "3", "--hidden", "64"}
	full := filepath.Join(t.TempDir(), "full")
	if _, stderr, code := run(t, append(args, "--out", full, "-q")...); code != 0 {
		t.Fatal(stderr)
	}
	dir := filepath.Join(t.TempDir(), "old")
	old := oldRun(t, data, dir)
	again := append(args, "--out", dir, "--overwrite", "--backup-and-restore", "epoch")
	cmd := exec.Command(binary, append(again, "-q")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	staging := filepath.Join(filepath.Dir(dir), ".old.staging-run")
	ck := filepath.Join(staging, "checkpoint.safetensors")
	for i := 0; i < 100000; i++ { // polls for the file, up to about 5 minutes
		if _, err := os.Stat(ck); err == nil {
			break
		}
		time.Sleep(3 * time.Millisecond)
	}
	cmd.Process.Kill()
	err := cmd.Wait()
	var x *exec.ExitError
	if !errors.As(err, &x) || x.ProcessState.String() != "signal: killed" {
		t.Fatalf("the run was not killed: %v", err)
	}
	if _, err := os.Stat(ck); err != nil {
		t.Fatalf("no backup beside the old run after the kill: %v", err)
	}
	sameFiles(t, dir, old)
	// Without --overwrite the old run is not replaced: refused, both kept.
	if _, stderr, code := run(t, append(args, "--out", dir, "-q")...); code != 2 {
		t.Fatalf("a new run into the old run's directory: exit %d %q", code, stderr)
	}
	sameFiles(t, dir, old)
	if _, err := os.Stat(ck); err != nil {
		t.Fatalf("the backup went: %v", err)
	}
	stdout, stderr, code := run(t, again...)
	if code != 0 {
		t.Fatalf("the same command again: exit %d %s", code, stderr)
	}
	if !strings.Contains(stdout, "Continuing from epoch ") {
		t.Errorf("the same command again started afresh (stdout %q)", stdout)
	}
	sameRun(t, full, dir)
	if _, err := os.Stat(staging); !os.IsNotExist(err) {
		t.Errorf("the staging directory is left after the run completed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoint.safetensors")); !os.IsNotExist(err) {
		t.Errorf("the checkpoint was kept after the run finished")
	}
}

// TestTrainOverwriteSIGINTKeepsOldRun: an --overwrite run interrupted
// (SIGINT) keeps the old run whole and its checkpoint beside it; --resume
// DIR continues it, and the result replaces the old run only then.
func TestTrainOverwriteSIGINTKeepsOldRun(t *testing.T) {
	data := sharedData(t)
	args, full := uninterrupted(t, data)
	dir := filepath.Join(t.TempDir(), "old")
	old := oldRun(t, data, dir)
	stderr := interruptAtEpoch2(t, append(args, "--out", dir, "--overwrite")...)
	staging := filepath.Join(filepath.Dir(dir), ".old.staging-run")
	if !strings.Contains(stderr, "saved in "+staging) || !strings.Contains(stderr, dir+" keeps the old run") ||
		!strings.Contains(stderr, "the same command again, or cifarnet train --resume "+dir) {
		t.Fatalf("stderr %q", stderr)
	}
	sameFiles(t, dir, old)
	if _, stderr, code := run(t, "train", "--data", data, "--resume", dir, "-q"); code != 0 {
		t.Fatalf("resume: exit %d %s", code, stderr)
	}
	sameRun(t, full, dir)
	if _, err := os.Stat(staging); !os.IsNotExist(err) {
		t.Errorf("the staging directory is left after the run completed: %v", err)
	}
}

// TestTrainOverwriteThroughALinkContinues: --out naming a symbolic link to
// a run, an interrupted overwrite continues when the same command is given
// again, and --resume through the link finds it too: the run, its lock and
// its staging directory are the link's target's (the staging directory
// went beside the target and was looked for beside the link, so the rerun
// started afresh and deleted the checkpoint).
func TestTrainOverwriteThroughALinkContinues(t *testing.T) {
	data := sharedData(t)
	args, full := uninterrupted(t, data)
	for _, again := range [][]string{append(append([]string(nil), args...), "--overwrite"), {"train", "--data", data, "--resume"}} {
		base := t.TempDir()
		dir, link := filepath.Join(base, "old"), filepath.Join(base, "link")
		oldRun(t, data, dir)
		if err := os.Symlink(dir, link); err != nil {
			t.Skip(err)
		}
		interruptAtEpoch2(t, append(args, "--out", link, "--overwrite")...)
		if again[len(again)-1] == "--resume" {
			again = append(again, link)
		} else {
			again = append(again, "--out", link)
		}
		stdout, stderr, code := run(t, again...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", again, code, stderr)
		}
		// Continued, not started afresh (which gives the same weights).
		if strings.Contains(stdout, "Epoch 1/6") || !strings.Contains(stdout, "Epoch 6/6") {
			t.Errorf("%v did not continue the interrupted run: %s", again, stdout)
		}
		sameRun(t, full, dir)
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%v: the link was replaced (%v)", again, err)
		}
	}
}
