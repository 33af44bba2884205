package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
