package experiment

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cifarnet/cifarnet/internal/lockfile"
	"github.com/cifarnet/cifarnet/rundir"
	"github.com/cifarnet/cifarnet/train"
)

// TestHostileSpecFiles: each crafted spec file is refused with one line
// naming what is wrong, quickly and without blocking; a megabyte of
// nested brackets used to take the TOML parser gigabytes and minutes, a
// FIFO blocked forever, and a value's newline reached the error.
func TestHostileSpecFiles(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, text, want string
	}{
		{"deep arrays", "seeds = " + strings.Repeat("[", 300000) + strings.Repeat("]", 300000) + "\n", "nested more than"},
		{"deep inline tables", "x = " + strings.Repeat("{a=", 100000) + "1" + strings.Repeat("}", 100000) + "\n", "nested more than"},
		{"deep after a string", "seeds = \"0-1 [[[[[[[[[[[[\" # ]]]]]]]]]\n[grid]\nlr = " + strings.Repeat("[", 20) + "\n", "line 3: arrays or tables nested"},
		{"too large", "seeds = \"0-1\"\n" + strings.Repeat("#", 2<<20) + "\n", "more than the 1048576"},
		{"control character", "seeds = \"0-1\"\n[grid]\nactivation = [\"elu\\u0000\", \"relu\"]\n", `"elu\x00" holds a control character`},
		{"newline in a value", "seeds = \"0-1\"\n[base]\nactivation = \"elu\\n--lr=5\"\n", "holds a control character"},
		{"newline in a name", "seeds = \"0-1\"\n[grid]\n\"activation\\n\" = [\"elu\"]\n", `"activation\n": not a setting's name`},
		{"odd name", "seeds = \"0-1\"\n[base]\n\"--lr\" = 3\n", "not a setting's name"},
		{"too many values", "seeds = \"0\"\n[grid]\nlr = [" + strings.Repeat("1,", MaxRuns) + "1]\n", "more than an experiment's"},
		{"huge value", "seeds = \"0\"\n[base]\nlayers = \"" + strings.Repeat("x", maxValue+1) + "\"\n", "more than the 65536"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".toml")
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := ReadSpecFile(path)
			if err == nil {
				err = s.Check()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if len(err.Error()) > 400 || strings.Contains(err.Error(), "\n") {
				t.Errorf("error of %d bytes or lines: %.400q", len(err.Error()), err)
			}
		})
	}
	fifo := filepath.Join(dir, "fifo.toml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadSpecFile(fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("FIFO: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("reading a FIFO as a spec file blocked")
	}
}

// TestSettingGivenTwice: a base setting given twice (in the spec file and
// as a flag) is refused, not silently resolved one way.
func TestSettingGivenTwice(t *testing.T) {
	s := &Spec{Seeds: []uint64{1}, Base: []Setting{{"epochs", "9223372036854775807"}, {"epochs", "1"}}}
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), "base epochs: the setting is given twice") {
		t.Errorf("got %v", err)
	}
}

// TestExperimentDirectorySpecJSON: a hostile spec.json (a FIFO, a
// truncated file, a value with a newline) is an error naming it, never a
// block or a two-line message.
func TestExperimentDirectorySpecJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SpecFile)
	os.WriteFile(path, []byte(`{"base": [{"name": "activation", "value": "elu\n--lr 5"}], "seeds": [1]}`), 0o644)
	if _, err := ReadSpec(dir); err == nil || !strings.Contains(err.Error(), "control character") {
		t.Errorf("a newline in spec.json: %v", err)
	}
	// A seed twice counted one run's numbers twice in the statistics.
	os.WriteFile(path, []byte(`{"base": [], "seeds": [0, 0, 0]}`), 0o644)
	if _, err := ReadSpec(dir); err == nil || !strings.Contains(err.Error(), "seed 0 twice") {
		t.Errorf("a seed thrice in spec.json: %v", err)
	}
	os.WriteFile(path, []byte(`{"base": [], "seeds": [1`), 0o644)
	if _, err := ReadSpec(dir); err == nil || !strings.Contains(err.Error(), "spec.json") {
		t.Errorf("truncated spec.json: %v", err)
	}
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan [2]error, 1)
	go func() {
		_, err1 := ReadSpec(dir)
		err2 := recordOnce(dir, &Spec{Seeds: []uint64{1}}, nil, testApply)
		done <- [2]error{err1, err2}
	}()
	select {
	case errs := <-done:
		for _, err := range errs {
			if err == nil || !strings.Contains(err.Error(), "named pipe") {
				t.Errorf("FIFO spec.json: %v", err)
			}
		}
	case <-time.After(time.Minute):
		t.Fatal("a FIFO as spec.json blocked")
	}
}

// TestManySeedsPlanned: the largest experiment allowed (MaxRuns runs) is
// parsed and planned; one more seed is refused. Checking each seed
// against all the others and validating every run (reading the memory
// available each time) took minutes for 100000 seeds.
func TestManySeedsPlanned(t *testing.T) {
	seeds, err := ParseSeeds("0-99999")
	if err != nil || len(seeds) != MaxRuns {
		t.Fatalf("%d seeds, %v", len(seeds), err)
	}
	if _, err := ParseSeeds("0-99999,100000"); err == nil {
		t.Error("more than MaxRuns seeds accepted")
	}
	if _, err := ParseSeeds("5-9,0-99994"); err == nil || !strings.Contains(err.Error(), "seed 5 twice") {
		t.Errorf("a repeated seed: %v", err)
	}
	s := &Spec{Seeds: seeds[:MaxRuns/2], Grid: []Axis{{"activation", []string{"elu", "relu"}}}}
	runs, err := Plan(t.TempDir(), s, testApply)
	if err != nil || len(runs) != MaxRuns {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	s.Grid[0].Values = append(s.Grid[0].Values, "selu")
	if _, err := Plan(t.TempDir(), s, testApply); err == nil || !strings.Contains(err.Error(), "more than 100000 runs") {
		t.Errorf("more than MaxRuns runs: %v", err)
	}
}

// TestDamagedRunsNamedMissing: a finished run whose files are damaged (a
// truncated or edited metrics.json, another run's, a FIFO, a directory
// where history.json should be) is named missing with its reason, and
// the other runs' statistics are still written; one damaged run used to
// fail the whole experiment and its report (exit 1, nothing written), or
// was averaged in with an accuracy of 1e308.
func TestDamagedRunsNamedMissing(t *testing.T) {
	src := sharedData(t)
	s := &Spec{Base: []Setting{{"epochs", "1"}, {"train-samples", "300"}, {"test-samples", "50"}, {"hidden", "8"}},
		Seeds: []uint64{0, 1, 2, 3, 4, 5, 6}, NamedSeed: 1}
	dir := t.TempDir()
	runs, err := Plan(dir, s, testApply)
	if err != nil {
		t.Fatal(err)
	}
	if err := Execute(runs, Options{Source: src, Parallel: 2}); err != nil {
		t.Fatal(err)
	}
	metrics := func(i int) string { return filepath.Join(runs[i].Dir, train.MetricsJSON) }
	edit := func(i int, from, to string) {
		b, err := os.ReadFile(metrics(i))
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(from)
		if !re.Match(b) {
			t.Fatalf("no %s in %s", from, metrics(i))
		}
		os.WriteFile(metrics(i), re.ReplaceAll(b, []byte(to)), 0o644)
	}
	b, _ := os.ReadFile(metrics(0))
	os.WriteFile(metrics(0), b[:len(b)/2], 0o644)
	edit(1, `"test_accuracy": [0-9.e-]+`, `"test_accuracy": 1e308`)
	edit(2, `"best_epoch": [0-9]+`, `"best_epoch": 99`)
	other, _ := os.ReadFile(metrics(6))
	os.WriteFile(metrics(3), other, 0o644)
	os.Remove(metrics(4))
	if err := syscall.Mkfifo(metrics(4), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	os.Remove(filepath.Join(runs[5].Dir, train.HistoryJSON))
	os.Mkdir(filepath.Join(runs[5].Dir, train.HistoryJSON), 0o755)
	sum, err := Write(dir, s, runs)
	if err != nil {
		t.Fatalf("one damaged run failed the experiment: %v", err)
	}
	want := map[uint64]string{0: "unexpected end of JSON", 1: "test_accuracy 1e+308", 2: "best_epoch 99", 3: "of seed 6, not 3", 4: "named pipe", 5: "a directory"}
	st := sum.Statistics
	if len(st.Missing) != len(want) {
		t.Errorf("missing %+v, want seeds 0-5", st.Missing)
	}
	for _, m := range st.Missing {
		if !strings.Contains(m.Reason, want[m.Seed]) || len(m.Reason) > 400 {
			t.Errorf("seed %d: reason %q, want one containing %q", m.Seed, m.Reason, want[m.Seed])
		}
	}
	if c := st.Configurations[0]; c.TestAccuracy.N != 1 || c.TestAccuracy.Mean > 1 {
		t.Errorf("statistics of %d runs, mean %g; want the one sound run", c.TestAccuracy.N, c.TestAccuracy.Mean)
	}
	if err := PlaceRuns(dir, runs); err != nil {
		t.Errorf("placing the runs: %v", err)
	}
}

// TestRunOfAnotherProcessLeftToIt: a run whose directory another process
// holds (a second experiment on the same directory) is left to it, and
// every other run is trained; the second process used to stop at the
// first such run with an error, leaving the rest untrained.
func TestRunOfAnotherProcessLeftToIt(t *testing.T) {
	src := sharedData(t)
	s := &Spec{Base: []Setting{{"epochs", "1"}, {"train-samples", "300"}, {"test-samples", "50"}, {"hidden", "8"}},
		Seeds: []uint64{0, 1, 2, 3}, NamedSeed: 1}
	dir := t.TempDir()
	runs, err := Plan(dir, s, testApply)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(runs[1].Dir, 0o755)
	lock, err := lockfile.TryLock(filepath.Join(runs[1].Dir, rundir.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	err = Execute(runs, Options{Source: src, Parallel: 1})
	var busy *Busy
	if !errors.As(err, &busy) || busy.Busy != 1 || busy.Done != 3 {
		t.Fatalf("got %v, want 3 runs done and 1 left to the other process", err)
	}
	lock.Unlock()
	for i, r := range runs {
		if got, want := Status(r), map[bool]string{true: "not started", false: "finished"}[i == 1]; got != want {
			t.Errorf("run %d: %s, want %s", i, got, want)
		}
	}
}

// TestFitParallel: the largest runs are counted together; an explicit
// count that does not fit is refused, the default is lowered to what fits.
func TestFitParallel(t *testing.T) {
	cfg := train.Exercise()
	cfg.Hidden = []int{4096, 4096}
	big := train.EstimateMemory(cfg)
	one := big.Weights + big.Activations
	small := train.Exercise()
	sm := train.EstimateMemory(small)
	todo := []Run{{Config: small}, {Config: cfg}, {Config: cfg}, {Config: small}}
	avail := int64(2*one + (sm.Weights+sm.Activations)/2) // the two large runs, not a third
	if _, err := fitParallel(todo, 3, true, avail); err == nil {
		t.Errorf("3 runs (two of %.0f bytes) in %d bytes: accepted", one, avail)
	}
	if n, err := fitParallel(todo, 4, false, avail); err != nil || n != 2 {
		t.Errorf("default of 4 in %d bytes: %d, %v, want 2", avail, n, err)
	}
	if n, err := fitParallel(todo, 2, true, avail); err != nil || n != 2 {
		t.Errorf("2 runs in %d bytes: %d, %v", avail, n, err)
	}
	if n, err := fitParallel(todo[1:2], 1, true, 1); err != nil || n != 1 {
		t.Errorf("one run too large: %d, %v, want it left to the run's own check", n, err)
	}
}
