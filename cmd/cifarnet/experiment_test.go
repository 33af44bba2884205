package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExperimentBadInput wants a one-line error and exit status 2 for each
// bad experiment, and nothing written.
func TestExperimentBadInput(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.toml")
	os.WriteFile(typo, []byte("seeds = \"0-1\"\n[grd]\nactivation = [\"elu\"]\n"), 0o644)
	exp := filepath.Join(dir, "exp")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--grid", "activaton=elu,relu"}, `unknown setting "activaton"`},
		{[]string{"--grid", "activation="}, "grid activation: no values"},
		{[]string{"--grid", "activation=elu,swish?"}, "--activation swish?"},
		{[]string{"--spec", typo}, `unknown key "grd"`},
		{[]string{"--shard", "2/2"}, "--shard 2/2"},
		{[]string{"--seeds", "5-1"}, "--seeds"},
	} {
		_, stderr, code := run(t, append([]string{"experiment", "--dir", exp}, tt.args...)...)
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line containing %q", tt.args, code, stderr, tt.want)
		}
	}
	if _, err := os.Stat(exp); !os.IsNotExist(err) {
		t.Errorf("a bad experiment made its directory")
	}
}

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{1, "1 seed"}, {0, "0 seeds"}, {30, "30 seeds"}} {
		if got := count(c.n, "seed"); got != c.want {
			t.Errorf("count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

// TestParallelMemoryCounted: --parallel N counts N runs' memory at once
// (each run checked only its own estimate, so two runs of 0.95 GB each
// started together under a 1.5 GiB limit); one at a time still trains.
func TestParallelMemoryCounted(t *testing.T) {
	data := sharedData(t)
	dir := filepath.Join(t.TempDir(), "exp")
	args := []string{"GOMEMLIMIT=1500MiB", binary, "experiment", "--seeds", "0-1", "--hidden", "4096,4096", "--epochs", "1",
		"--train-samples", "100", "--test-samples", "100", "--data", data, "--dir", dir, "--quiet"}
	_, stderr, code := runProgram(t, 120*time.Second, "env", append(args, "--parallel", "2")...)
	if code != 2 || !strings.Contains(stderr, "--parallel 2: 2 runs at once need about") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("--parallel 2: exit %d, stderr %q, want exit 2 and one line naming --parallel", code, stderr)
	}
	if _, stderr, code = runProgram(t, 120*time.Second, "env", append(args, "--parallel", "1")...); code != 0 {
		t.Fatalf("--parallel 1: exit %d, stderr %q", code, stderr)
	}
}
