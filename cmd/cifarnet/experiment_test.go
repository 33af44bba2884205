package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
