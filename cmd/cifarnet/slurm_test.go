package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSlurmSubmitSaysWhatNext: --submit passes the script to sbatch
// --parsable (a stand-in here, first on PATH) and says the job's id, how to
// follow its tasks and what to run when they have ended (it printed only
// sbatch's bare id, "1").
func TestSlurmSubmitSaysWhatNext(t *testing.T) {
	data := sharedData(t)
	bin := t.TempDir()
	args := filepath.Join(bin, "args")
	fake := "#!/bin/sh\necho \"$@\" > " + args + "\necho '4711;cluster'\n"
	if err := os.WriteFile(filepath.Join(bin, "sbatch"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := filepath.Join(t.TempDir(), "exp")
	for _, wait := range []bool{false, true} {
		a := []string{"experiment", "slurm", "--data", data, "--seeds", "0-1", "--epochs", "1", "--dir", dir, "--shards", "2", "--submit"}
		if wait {
			a = append(a, "--wait")
		}
		stdout, stderr, code := run(t, a...)
		if code != 0 {
			t.Fatalf("wait %v: exit %d: %s", wait, code, stderr)
		}
		got, _ := os.ReadFile(args)
		want := "--parsable " + filepath.Join(dir, SlurmScript)
		if wait {
			want = "--parsable --wait " + filepath.Join(dir, SlurmScript)
		}
		if strings.TrimSpace(string(got)) != want {
			t.Errorf("sbatch got %q, want %q", got, want)
		}
		next := "when every task has ended: cifarnet experiment collect " + dir
		if wait {
			next = "every task has ended; collect with: cifarnet experiment collect " + dir
		}
		if !strings.Contains(stdout, "submitted job array 4711: 'squeue -j 4711' shows its tasks") || !strings.Contains(stdout, next) || strings.Contains(stdout, "cluster") {
			t.Errorf("wait %v: stdout %q", wait, stdout)
		}
	}
}

// TestSlurmTaskResubmittedAlone: the script's task runs its own shard of
// the experiment's N even when resubmitted alone (sbatch --array=1 gives
// SLURM_ARRAY_TASK_COUNT=1; the script read the count from it and failed
// with "1/1: want I/N with 0 <= I < N", so README's rerun of a failed task
// never worked).
func TestSlurmTaskResubmittedAlone(t *testing.T) {
	data := sharedData(t)
	dir := filepath.Join(t.TempDir(), "exp")
	_, stderr, code := run(t, "experiment", "slurm", "--data", data, "--seeds", "0-1", "--epochs", "1", "--train-samples", "200",
		"--test-samples", "50", "--hidden", "16", "--dir", dir, "--shards", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	finished := func() int {
		m, _ := filepath.Glob(filepath.Join(dir, "runs", "*", "metrics.json"))
		return len(m)
	}
	script := filepath.Join(dir, SlurmScript)
	for i, env := range [][]string{{"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=1"}, {"SLURM_ARRAY_TASK_ID=0", "SLURM_ARRAY_TASK_COUNT=2"}} {
		cmd := exec.Command("bash", script)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("task %v: %v: %s", env, err, out)
		}
		if n := finished(); n != i+1 {
			t.Fatalf("after task %v: %d runs finished, want %d (one per shard)", env, n, i+1)
		}
	}
}

// TestSlurmTaskInterruptedSaysResubmit: an experiment interrupted inside a
// Slurm array task (scancel, a time limit: SIGTERM) says how to continue
// it there, by resubmitting its index, not "run the same command again".
func TestSlurmTaskInterruptedSaysResubmit(t *testing.T) {
	data := sharedData(t)
	dir := filepath.Join(t.TempDir(), "exp")
	cmd := exec.Command(binary, "experiment", "--data", data, "--dir", dir, "--seeds", "0", "--epochs", "50", "--patience", "-1",
		"--train-samples", "2000", "--test-samples", "100", "--shard", "0/1")
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=3")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Signal once the run has started (its directory is locked).
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if locks, _ := filepath.Glob(filepath.Join(dir, "runs", "*", ".cifarnet.lock")); len(locks) > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	want := "continue with: sbatch --array=3 " + filepath.Join(dir, SlurmScript)
	if code := cmd.ProcessState.ExitCode(); code != 130 || !strings.Contains(stderr.String(), want) {
		t.Fatalf("exit %d, stderr %q, want %q", code, stderr.String(), want)
	}
}

// TestSlurmScriptCarriesBackups: --backup-and-restore given to "experiment
// slurm" reaches every task's command line; not given, the tasks take the
// experiment's default.
func TestSlurmScriptCarriesBackups(t *testing.T) {
	for _, c := range []struct {
		extra []string
		want  string
	}{{nil, ""}, {[]string{"--backup-and-restore", "epoch"}, " --backup-and-restore epoch "}} {
		dir := filepath.Join(t.TempDir(), "exp")
		args := append([]string{"experiment", "slurm", "--seeds", "0-1", "--dir", dir, "--shards", "2"}, c.extra...)
		if _, stderr, code := run(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", c.extra, code, stderr)
		}
		b, err := os.ReadFile(filepath.Join(dir, SlurmScript))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(b), "--backup-and-restore"); got != (c.want != "") || (c.want != "" && !strings.Contains(string(b), c.want)) {
			t.Errorf("%v: the script's command:\n%s", c.extra, b)
		}
	}
}

// TestSlurmHintsQuoted: the commands experiment slurm prints to copy are
// quoted for the shell: with a space in the directory, the unquoted
// "submit with: sbatch /tmp/a b/experiment.sbatch" failed when pasted.
func TestSlurmHintsQuoted(t *testing.T) {
	data := sharedData(t)
	dir := filepath.Join(t.TempDir(), "my exp")
	stdout, stderr, code := run(t, "experiment", "slurm", "--data", data, "--seeds", "0", "--epochs", "1", "--train-samples", "200",
		"--test-samples", "50", "--hidden", "16", "--dir", dir, "--shards", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	abs, _ := filepath.Abs(dir)
	for _, want := range []string{"submit with: sbatch " + shellQuote(filepath.Join(abs, SlurmScript)), "then: cifarnet experiment collect " + shellQuote(dir)} {
		if !strings.Contains(stdout, want) || !strings.Contains(want, "'") {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, SlurmScript))
	if !strings.Contains(string(b), "# Rerun a failed task: sbatch --array=I "+shellQuote(filepath.Join(abs, SlurmScript))) {
		t.Errorf("script's rerun comment unquoted:\n%s", b)
	}
}

// TestHalfShardEnvironmentRefused: one of a scheduler's pair of shard
// variables without the other (a Kubernetes Job without CIFARNET_SHARDS)
// ran every run in every task; it is refused, as are --wait without
// --submit and a shard count past the limit, each saying what it wants.
func TestHalfShardEnvironmentRefused(t *testing.T) {
	data := sharedData(t)
	small := []string{"--data", data, "--seeds", "0", "--epochs", "1", "--train-samples", "200", "--test-samples", "50", "--hidden", "16"}
	for _, c := range []struct {
		env  [][2]string
		args []string
		want string
	}{
		{[][2]string{{"JOB_COMPLETION_INDEX", "1"}}, nil, `JOB_COMPLETION_INDEX="1" and CIFARNET_SHARDS=""`},
		{[][2]string{{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", ""}}, nil, "a sharded task needs both"},
		{nil, []string{"--shard", "0/100001"}, "0 <= I < N <= 100000"},
		{nil, []string{"slurm", "--shards", "1", "--wait"}, "--wait waits for the tasks --submit submits"},
		{nil, []string{"slurm", "--shards", "1", "--threads", "-1"}, "--threads -1"},
	} {
		for _, e := range c.env {
			t.Setenv(e[0], e[1])
		}
		args := append([]string{"experiment"}, c.args...)
		args = append(args, append(small, "--dir", filepath.Join(t.TempDir(), "exp"))...)
		_, stderr, code := run(t, args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v %v: exit %d, stderr %q, want 2 and %q", c.env, c.args, code, stderr, c.want)
		}
		for _, e := range c.env {
			os.Unsetenv(e[0])
		}
	}
}

// TestSlurmCountsOneRun: a script of one run in one task says so, not "1
// runs in 1 array tasks".
func TestSlurmCountsOneRun(t *testing.T) {
	stdout, stderr, code := run(t, "experiment", "slurm", "--data", sharedData(t), "--seeds", "0", "--epochs", "1", "--dir", filepath.Join(t.TempDir(), "exp"), "--shards", "1")
	if code != 0 || !strings.Contains(stdout, ": 1 run in 1 array task\n") {
		t.Errorf("exit %d, stdout %q, stderr %q; want \"1 run in 1 array task\"", code, stdout, stderr)
	}
}
