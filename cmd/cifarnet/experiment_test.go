package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExperimentBadInput wants, for each bad experiment, exit status 2,
// one line on stderr that says what is wrong (want), no part of it said
// twice ("grid lr=abc: lr=abc: ..." once did), and nothing written.
func TestExperimentBadInput(t *testing.T) {
	dir := t.TempDir()
	spec := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	typo := spec("typo.toml", "seeds = \"0-1\"\n[grd]\nactivation = [\"elu\"]\n")
	baseLR := spec("base.toml", "seeds = \"0-1\"\n[base]\nlr = \"abc\"\n")
	gridLR := spec("grid.toml", "seeds = \"0-1\"\n[grid]\nlr = [0.001, \"abc\"]\n")
	reversed := spec("reversed.toml", "seeds = \"9-2\"\n")
	exp := filepath.Join(dir, "exp")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--grid", "activaton=elu,relu"}, `grid activaton=elu: unknown setting "activaton"`},
		{[]string{"--grid", "activation="}, "grid activation: no values"},
		{[]string{"--grid", "activation=elu,swish?"}, `grid activation=swish?: unknown activation "swish?"`},
		{[]string{"--grid", "activation=elu,elu"}, `grid activation: value "elu" twice`},
		{[]string{"--grid", "lr=abc"}, `grid lr=abc: invalid argument "abc" for "--lr" flag`},
		{[]string{"--grid", "hidden=abc"}, `grid hidden=abc: invalid argument "abc" for "--hidden" flag`},
		{[]string{"--grid", "batch-size=0,1"}, "grid batch-size=0: want 1 to"},
		{[]string{"--grid", "activation=elu,relu", "--grid", "batch-size=0"}, "grid activation=elu batch-size=0: --batch-size 0: want 1 to"},
		{[]string{"--grid", "seed=1,2"}, "grid seed: seeds are given by --seeds"},
		{[]string{"--grid", "=1"}, `grid "=1": want SETTING=VALUE`},
		{[]string{"--epochs", "0"}, "base: --epochs 0: want 1 to"},
		{[]string{"--baseline-config", "activation=relu"}, `baseline "activation=relu" is not one of the configurations (base)`},
		{[]string{"--grid", "activation=elu,relu", "--baseline-config", "relu"}, `baseline "relu" is not one of the configurations (activation=elu, activation=relu)`},
		{[]string{"--spec", typo}, `unknown key "grd"`},
		{[]string{"--spec", baseLR}, `base: invalid argument "abc" for "--lr" flag`},
		{[]string{"--spec", gridLR}, `grid lr=abc: invalid argument "abc" for "--lr" flag`},
		{[]string{"--spec", reversed}, `seeds "9-2": the range 9-2 is reversed (did you mean 2-9?)`},
		{[]string{"--shard", "2/2"}, "--shard 2/2"},
		{[]string{"--seeds", "5-1"}, `--seeds "5-1": the range 5-1 is reversed (did you mean 1-5?)`},
		{[]string{"--seeds", "5-x"}, `--seeds "5-x": "5-x" is not a range like 0-29`},
		{[]string{"--seeds", "x"}, `--seeds "x": "x" is not a seed or a range like 0-29`},
		{[]string{"--seeds", ""}, `--seeds "": no seeds`},
		{[]string{"--seeds", "1,1"}, `--seeds "1,1": seed 1 twice`},
		{[]string{"--seeds", "0-100000"}, `--seeds "0-100000": more than 100000 seeds`},
		{[]string{"--grid", "model=" + filepath.Join(dir, "none.json")}, "grid model=" + filepath.Join(dir, "none.json") + ": no such file"},
		{[]string{"--grid", "layers=dense(1);dense(x)"}, `grid layers=dense(x): layer "dense" (Dense): units: want a whole number`},
		{[]string{"slurm", "--seeds", "0-1"}, "--shards is required"},
		{[]string{"slurm", "--seeds", "0-1", "--shards", "3"}, "--shards 3: want 1 to 2 (the experiment's runs)"},
		{[]string{"slurm", "--seeds", "0-1", "--shards", "2", "--cpus-per-task", "0"}, "--cpus-per-task 0: want 1 to"},
		{[]string{"slurm", "--seeds", "1-0", "--shards", "1"}, `--seeds "1-0": the range 1-0 is reversed`},
	} {
		args := append([]string{"experiment", "--dir", exp}, tt.args...)
		if tt.args[0] == "slurm" {
			args = append([]string{"experiment", "slurm", "--dir", exp}, tt.args[1:]...)
		}
		_, stderr, code := run(t, args...)
		line := strings.TrimSpace(stderr)
		if code != 2 || !strings.Contains(line, tt.want) || strings.Count(line, "\n") != 0 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line containing %q", tt.args, code, stderr, tt.want)
		}
		if d := saidTwice(line); d != "" {
			t.Errorf("%q: %q says %q twice", tt.args, line, d)
		}
	}
	if _, err := os.Stat(exp); !os.IsNotExist(err) {
		t.Errorf("a bad experiment made its directory")
	}
}

// saidTwice returns a part of an error message (between ": ") that another
// part says again, "lr=abc" and "--lr abc" counting as the same; "" if
// none.
func saidTwice(msg string) string {
	seen := map[string]bool{}
	for _, part := range strings.Split(msg, ": ") {
		k := strings.TrimPrefix(strings.TrimPrefix(part, "grid "), "--")
		k = strings.Trim(strings.Replace(k, " ", "=", 1), `"`)
		if k == "cifarnet" || k == "" {
			continue
		}
		if seen[k] {
			return part
		}
		seen[k] = true
	}
	return ""
}

func TestSaidTwice(t *testing.T) {
	for msg, want := range map[string]string{
		"cifarnet: grid lr=abc: lr=abc: invalid":                "lr=abc",
		"cifarnet: activation=nope: --activation nope: unknown": "--activation nope",
		"cifarnet: grid lr=abc: invalid argument":               "",
		"cifarnet: base: --epochs 0: want 1":                    "",
	} {
		if got := saidTwice(msg); got != want {
			t.Errorf("saidTwice(%q) = %q, want %q", msg, got, want)
		}
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
