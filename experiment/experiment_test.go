package experiment

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/train"
)

func TestParseSeeds(t *testing.T) {
	for in, want := range map[string][]uint64{"0-3": {0, 1, 2, 3}, "7": {7}, "0-2,42": {0, 1, 2, 42}, " 5 , 9": {5, 9}} {
		got, err := ParseSeeds(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"":          `seeds "": no seeds`,
		"a":         `"a" is not a seed or a range like 0-29`,
		"3-1":       "the range 3-1 is reversed (did you mean 1-3?)",
		"0-2,9-7":   "the range 9-7 is reversed (did you mean 7-9?)",
		"1,1":       "seed 1 twice",
		"0-":        `"0-" is not a range like 0-29`,
		"0-1000000": "more than 100000 seeds",
	} {
		if _, err := ParseSeeds(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", in, err, want)
		}
	}
}

// testApply knows a few settings, as the command line's flags would.
func testApply(settings []Setting) (train.Config, error) {
	c := train.Exercise()
	for _, s := range settings {
		var err error
		switch s.Name {
		case "activation":
			c.Activation = s.Value
		case "epochs":
			c.Epochs, err = strconv.Atoi(s.Value)
		case "train-samples":
			c.TrainSamples, err = strconv.Atoi(s.Value)
		case "test-samples":
			c.TestSamples, err = strconv.Atoi(s.Value)
		case "lr":
			c.LearningRate, err = strconv.ParseFloat(s.Value, 64)
		case "hidden":
			var n int
			n, err = strconv.Atoi(s.Value)
			c.Hidden = []int{n}
		case "dataset":
			c.Dataset = s.Value
		case "label-mode":
			c.LabelMode = s.Value
		default:
			return c, fmt.Errorf("unknown setting %q", s.Name)
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

func TestPlan(t *testing.T) {
	s := &Spec{Base: []Setting{{"epochs", "2"}}, Seeds: []uint64{0, 1},
		Grid: []Axis{{"activation", []string{"elu", "relu"}}, {"lr", []string{"0.001", "0.0003"}}}}
	runs, err := Plan("d", s, testApply)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 8 {
		t.Fatalf("%d runs, want 2x2 configurations x 2 seeds", len(runs))
	}
	// The first grid setting varies slowest, then the seeds fastest.
	if runs[0].Label != "activation=elu lr=0.001" || runs[1].Seed != 1 || runs[2].Label != "activation=elu lr=0.0003" || runs[4].Label != "activation=relu lr=0.001" {
		t.Errorf("order: %q %d %q %q", runs[0].Label, runs[1].Seed, runs[2].Label, runs[4].Label)
	}
	if runs[5].Config.Activation != "relu" || runs[5].Config.LearningRate != 0.001 || runs[5].Config.Epochs != 2 || runs[5].Config.Seed != 1 {
		t.Errorf("run 5's configuration: %+v", runs[5].Config)
	}
	dirs := map[string]bool{}
	for _, r := range runs {
		dirs[r.Dir] = true
	}
	if len(dirs) != len(runs) {
		t.Errorf("%d distinct directories for %d runs", len(dirs), len(runs))
	}
	// The same configuration and seed: the same directory, at any thread count.
	again, _ := Plan("d", s, testApply)
	c := runs[3].Config
	c.Threads = 7
	if again[3].Dir != runs[3].Dir || Hash(c) != Hash(runs[3].Config) {
		t.Errorf("the directory of a run moved")
	}
	// Shards are disjoint and cover every run.
	seen := map[int]int{}
	for i := 0; i < 3; i++ {
		for _, r := range Shard(runs, i, 3) {
			seen[r.Index]++
		}
	}
	for i := range runs {
		if seen[i] != 1 {
			t.Errorf("run %d in %d shards", i, seen[i])
		}
	}
	for name, bad := range map[string]*Spec{
		"unknown setting": {Seeds: []uint64{0}, Grid: []Axis{{"activaton", []string{"elu"}}}},
		"empty grid":      {Seeds: []uint64{0}, Grid: []Axis{{"activation", nil}}},
		"no seeds":        {Grid: []Axis{{"activation", []string{"elu"}}}},
		"bad value":       {Seeds: []uint64{0}, Grid: []Axis{{"activation", []string{"swish?"}}}},
		"bad baseline":    {Seeds: []uint64{0}, Grid: []Axis{{"activation", []string{"elu"}}}, Baseline: "activation=relu"},
		"twice":           {Seeds: []uint64{0}, Base: []Setting{{"epochs", "1"}}, Grid: []Axis{{"epochs", []string{"2"}}}},
	} {
		if _, err := Plan("d", bad, testApply); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestReadSpecFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte(`seeds = "0-4"
baseline = "activation=elu"
[base]
epochs = 20
lr = 3e-4
hidden = [256, 128]
[grid]
activation = ["elu", "relu"]
batch-size = [64, 128]
`), 0o644)
	s, err := ReadSpecFile(good)
	if err != nil {
		t.Fatal(err)
	}
	wantBase := []Setting{{"epochs", "20"}, {"hidden", "256,128"}, {"lr", "0.0003"}}
	if !slices.Equal(s.Base, wantBase) || len(s.Seeds) != 5 || s.Baseline != "activation=elu" || s.NamedSeed != 42 {
		t.Errorf("spec %+v", s)
	}
	if len(s.Grid) != 2 || s.Grid[0].Name != "activation" || !slices.Equal(s.Grid[1].Values, []string{"64", "128"}) {
		t.Errorf("grid %+v (want the file's order)", s.Grid)
	}
	for name, text := range map[string]string{
		"typo":    "seeds = \"0-1\"\n[grd]\nactivation = [\"elu\"]\n",
		"syntax":  "seeds = \"0-1\n",
		"grid":    "[grid]\nactivation = \"elu\"\n",
		"seeds":   "seeds = true\n",
		"in base": "[base]\nactivation = [\"elu\", \"relu\"]\n",
	} {
		p := filepath.Join(dir, name+".toml")
		os.WriteFile(p, []byte(text), 0o644)
		if _, err := ReadSpecFile(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A YAML spec is told that spec files are TOML.
	yaml := filepath.Join(dir, "spec.yaml")
	os.WriteFile(yaml, []byte("seeds: 0-3\ngrid:\n  activation: [elu, relu]\n"), 0o644)
	if _, err := ReadSpecFile(yaml); err == nil || !strings.Contains(err.Error(), "spec files are TOML, not YAML") {
		t.Errorf("YAML spec: %v", err)
	}
}

// recordOnce is RecordSpec by a command that then ends.
func recordOnce(dir string, s *Spec, runs []Run, apply Apply) error {
	u, err := RecordSpec(dir, s, runs, apply)
	u.Release()
	return err
}

// record records s in dir with its planned runs.
func record(t *testing.T, dir string, s *Spec) error {
	t.Helper()
	runs, err := Plan(dir, s, testApply)
	if err != nil {
		t.Fatal(err)
	}
	return recordOnce(dir, s, runs, testApply)
}

func TestRecordSpec(t *testing.T) {
	dir := t.TempDir()
	s := &Spec{Base: []Setting{{"epochs", "3"}, {"lr", "0.001"}}, Seeds: []uint64{0, 1},
		Grid: []Axis{{"activation", []string{"elu", "relu", "selu"}}}}
	if err := record(t, dir, s); err != nil {
		t.Fatalf("first record: %v", err)
	}
	before, err := os.ReadFile(filepath.Join(dir, SpecFile))
	if err != nil {
		t.Fatalf("first record: no %s: %v", SpecFile, err)
	}
	// The same base in another order and spelling is the same experiment.
	same := *s
	same.Base = []Setting{{"lr", "1e-3"}, {"epochs", "3"}}
	if err := record(t, dir, &same); err != nil {
		t.Fatalf("the same base reordered: %v", err)
	}
	// Extending (more seeds, another grid value) is the same experiment.
	s.Seeds = []uint64{0, 1, 2}
	s.Grid = []Axis{{"activation", []string{"elu", "relu", "selu", "gelu"}}}
	if err := record(t, dir, s); err != nil {
		t.Fatalf("extending: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, SpecFile))
	if string(after) == string(before) {
		t.Errorf("the extension was not recorded")
	}
	// Until a run begins, any spec replaces it (a command that failed, or
	// a typo, leaves nothing to keep).
	if err := record(t, dir, &Spec{Base: []Setting{{"epochs", "9"}}, Seeds: []uint64{5}}); err != nil {
		t.Fatalf("replacing an experiment that never began: %v", err)
	}
	if err := record(t, dir, s); err != nil {
		t.Fatal(err)
	}
	// Every run of seeds 0 and 1 begins; seed 2's never do.
	runs, err := Plan(dir, s, testApply)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Seed < 2 {
			if err := os.MkdirAll(r.Dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Seeds that never began may go.
	two := *s
	two.Seeds = []uint64{0, 1}
	if err := record(t, dir, &two); err != nil {
		t.Fatalf("leaving out seeds that never began: %v", err)
	}
	after, _ = os.ReadFile(filepath.Join(dir, SpecFile))
	// Refused, spec.json untouched: another base, another grid, a grid or
	// seeds that leave runs out.
	for _, c := range []struct {
		name string
		spec Spec
		want string
	}{
		{"another base", Spec{Base: []Setting{{"epochs", "4"}, {"lr", "0.001"}}, Seeds: s.Seeds, Grid: s.Grid}, "its base settings: epochs=3 lr=0.001; this command's: epochs=4 lr=0.001"},
		{"another grid", Spec{Base: s.Base, Seeds: s.Seeds, Grid: []Axis{{"hidden", []string{"16", "32"}}}}, "leaves out 8 of its 8 runs: configuration activation=elu, configuration activation=relu, configuration activation=selu, 1 more"},
		{"a narrower grid", Spec{Base: s.Base, Seeds: s.Seeds, Grid: []Axis{{"activation", []string{"elu", "relu"}}}}, "leaves out 4 of its 8 runs: configuration activation=selu, configuration activation=gelu"},
		{"fewer seeds", Spec{Base: s.Base, Seeds: []uint64{0}, Grid: s.Grid}, "leaves out 4 of its 8 runs: seed 1 of activation=elu"},
	} {
		var se *SpecError
		err := record(t, dir, &c.spec)
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a SpecError saying %q", c.name, err, c.want)
		}
		if now, _ := os.ReadFile(filepath.Join(dir, SpecFile)); string(now) != string(after) {
			t.Errorf("%s: spec.json overwritten", c.name)
		}
	}
}

// TestParseAxisEmptyValue refuses an empty value in a grid flag.
func TestParseAxisEmptyValue(t *testing.T) {
	for _, bad := range []string{"activation=elu,,relu", "activation=elu,", "hidden=256,256;;512"} {
		if a, err := ParseAxis(bad); err == nil {
			t.Errorf("%q: accepted as %v", bad, a.Values)
		}
	}
	if a, err := ParseAxis("activation= elu , relu"); err != nil || len(a.Values) != 2 {
		t.Errorf("spaces around values: %v, %v", a, err)
	}
}

func sharedData(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", "shared", "cifar-10-batches-bin"))
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real data not found at %s", dir)
	}
	return dir
}

// TestInterruptAndRerun interrupts an experiment in the middle of its
// runs, reruns it, and wants the statistics of one never interrupted.
func TestInterruptAndRerun(t *testing.T) {
	src := sharedData(t)
	s := &Spec{Base: []Setting{{"epochs", "3"}, {"train-samples", "500"}, {"test-samples", "100"}, {"hidden", "16"}},
		Grid: []Axis{{"activation", []string{"elu", "relu"}}}, Seeds: []uint64{0, 1, 2}, NamedSeed: 1}
	experimentOf := func(dir string, interrupt func() bool) (*Summary, error) {
		runs, err := Plan(dir, s, testApply)
		if err != nil {
			t.Fatal(err)
		}
		if err := record(t, dir, s); err != nil {
			t.Fatal(err)
		}
		if err := Execute(runs, Options{Source: src, Parallel: 2, Interrupt: interrupt}); err != nil {
			return nil, err
		}
		return Write(dir, s, runs)
	}
	whole, err := experimentOf(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var mu = make(chan struct{}, 1)
	steps := 0
	_, err = experimentOf(dir, func() bool {
		mu <- struct{}{}
		steps++
		stop := steps > 30 // inside the second pair of runs (4 steps an epoch, 12 a run)
		<-mu
		return stop
	})
	var intr *Interrupted
	if !errors.As(err, &intr) || intr.Left == 0 || intr.Done == 0 {
		t.Fatalf("got %v, want an interruption with runs done and runs left", err)
	}
	resumed, err := experimentOf(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(whole.Statistics)
	b, _ := json.Marshal(resumed.Statistics)
	if string(a) != string(b) {
		t.Errorf("statistics differ after an interruption:\n%s\n%s", a, b)
	}
	if len(resumed.Statistics.Missing) != 0 || resumed.Statistics.Configurations[0].TestAccuracy.N != 3 {
		t.Errorf("runs missing after the rerun: %+v", resumed.Statistics.Missing)
	}
	// A run directory removed is named missing, not dropped.
	runs, _ := Plan(dir, s, testApply)
	os.RemoveAll(runs[4].Dir)
	partial, err := Write(dir, s, runs)
	if err != nil {
		t.Fatal(err)
	}
	if len(partial.Statistics.Missing) != 1 || partial.Statistics.Missing[0].Seed != 1 {
		t.Errorf("missing runs %+v, want seed 1 of relu", partial.Statistics.Missing)
	}
}

// TestPlaceRuns wants every finished run's own report to say where the run
// falls among the others once the experiment's report is redrawn.
func TestPlaceRuns(t *testing.T) {
	src := sharedData(t)
	s := &Spec{Base: []Setting{{"epochs", "1"}, {"train-samples", "300"}, {"test-samples", "50"}, {"hidden", "8"}},
		Seeds: []uint64{0, 1, 2}, NamedSeed: 1}
	dir := t.TempDir()
	runs, err := Plan(dir, s, testApply)
	if err != nil {
		t.Fatal(err)
	}
	if err := Execute(runs, Options{Source: src, Parallel: 1}); err != nil {
		t.Fatal(err)
	}
	if err := PlaceRuns(dir, runs); err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if _, err := os.Stat(filepath.Join(r.Dir, report.PlaceFile)); err != nil {
			t.Errorf("run %s: no %s: %v", r.Dir, report.PlaceFile, err)
		}
		page, err := os.ReadFile(filepath.Join(r.Dir, report.HTMLFile))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(page), "Among the 3 runs of experiment") {
			t.Errorf("run %s: the report does not place the run among the experiment's 3 runs", r.Dir)
		}
	}
}

// TestStatusWantsEveryFile: a run killed while writing its files (metrics
// written, the report not yet) has not finished; with a checkpoint it is
// continued, without one trained again.
func TestStatusWantsEveryFile(t *testing.T) {
	r := Run{Dir: t.TempDir()}
	write := func(name string) {
		if err := os.WriteFile(filepath.Join(r.Dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if s := Status(r); s != "not started" {
		t.Fatalf("empty: %s", s)
	}
	write(train.MetricsJSON)
	write("model.safetensors")
	if s := Status(r); s != "not started" {
		t.Errorf("metrics and model but no report: %s, want not started", s)
	}
	write(train.CheckpointFile)
	if s := Status(r); s != "interrupted" {
		t.Errorf("with a checkpoint: %s, want interrupted", s)
	}
	write(report.HTMLFile)
	if s := Status(r); s != "finished" {
		t.Errorf("every file: %s, want finished", s)
	}
}

// TestParseAxisCommaValues: a value cut at its commas into pieces with
// unbalanced brackets is refused, saying that ';' separates values that
// hold commas (the layer parser's error about "dense(64" did not).
func TestParseAxisCommaValues(t *testing.T) {
	for _, bad := range []string{"layers=dense(64, elu), batchnorm", "layers=dense(64, elu),dense(32, elu)", "hidden=[256,256]"} {
		_, err := ParseAxis(bad)
		if err == nil || !strings.Contains(err.Error(), `values that hold commas are separated by ";" (e.g. layers=dense(64, elu), batchnorm;dense(32, elu))`) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line saying values are separated by ';'", bad, err)
		}
	}
	for in, want := range map[string][]string{
		"layers=dense(64, elu), batchnorm;dense(32, elu)": {"dense(64, elu), batchnorm", "dense(32, elu)"},
		"layers=dense(64),dense(32)":                      {"dense(64)", "dense(32)"},
		"hidden=256,512":                                  {"256", "512"},
	} {
		if a, err := ParseAxis(in); err != nil || !slices.Equal(a.Values, want) {
			t.Errorf("%q: %q %v, want %q", in, a.Values, err, want)
		}
	}
}

// TestSettingSpellings: '_' and '-' are the same in a spec file's keys,
// --grid's and --config's: a spec written either way is the same spec
// (spec.json, run directories, default directory), so that
// train_samples is not an unknown setting.
func TestSettingSpellings(t *testing.T) {
	dir := t.TempDir()
	read := func(name, text string) *Spec {
		t.Helper()
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		s, err := ReadSpecFile(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return s
	}
	dashed := read("dashed.toml", `seeds = "0-1"
named_seed = 1
[base]
train-samples = 100
epochs = 2
test-samples = 50
[grid]
lr = [0.1, 0.01]
[[config]]
name = "a"
train-samples = 200
`)
	underscored := read("underscored.toml", `seeds = "0-1"
named-seed = 1
[base]
train_samples = 100
epochs = 2
test_samples = 50
[grid]
lr = [0.1, 0.01]
[[config]]
name = "a"
train_samples = 200
`)
	if a, b := mustJSON(dashed), mustJSON(underscored); string(a) != string(b) {
		t.Errorf("spec.json differs by the keys' spelling:\n%s\n%s", a, b)
	}
	if !underscored.NamedSeedGiven || underscored.NamedSeed != 1 {
		t.Errorf("named-seed: %d (given %v)", underscored.NamedSeed, underscored.NamedSeedGiven)
	}
	if a, err := ParseAxis("train_samples=100,200"); err != nil || a.Name != "train-samples" {
		t.Errorf("--grid train_samples: %+v %v", a, err)
	}
	if c, err := ParseConfig("a: train_samples=100"); err != nil || c.Settings[0].Name != "train-samples" {
		t.Errorf("--config train_samples: %+v %v", c, err)
	}
	// Both spellings at once are one key given twice; an unknown key
	// names the one meant.
	for name, tt := range map[string]struct{ text, want string }{
		"twice":      {"named-seed = 1\nnamed_seed = 2\n", "named-seed and named_seed are the same key, given twice"},
		"base twice": {"[base]\ntrain_samples = 1\ntrain-samples = 2\n", "base train-samples: the setting is given twice"},
		"seed":       {"seed = 3\n", `unknown key "seed" (did you mean seeds?`},
		"grd":        {"[grd]\nlr = [1]\n", `unknown key "grd" (did you mean grid?`},
		"nothing":    {"epochs = 3\n", `unknown key "epochs" (want seeds`},
	} {
		p := filepath.Join(dir, name+".toml")
		os.WriteFile(p, []byte("seeds = \"0-1\"\n"+tt.text), 0o644)
		s, err := ReadSpecFile(p)
		if err == nil {
			err = s.Check()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", name, err, tt.want)
		}
	}
}

func TestFormatSeeds(t *testing.T) {
	many := make([]uint64, 0, 20)
	for i := uint64(0); i < 20; i++ {
		many = append(many, 2*i)
	}
	for _, tt := range []struct {
		seeds []uint64
		want  string
	}{
		{[]uint64{0, 1, 2}, "0-2"},
		{[]uint64{7}, "7"},
		{[]uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 42}, "0-9,42"},
		{[]uint64{5, 3, 4}, "5,3-4"},
		{many, "0,2,4,6,8,10,... (20 seeds)"},
	} {
		if got := FormatSeeds(tt.seeds); got != tt.want {
			t.Errorf("FormatSeeds(%v) = %q, want %q", tt.seeds, got, tt.want)
		}
		if len(tt.seeds) < 20 {
			if back, err := ParseSeeds(FormatSeeds(tt.seeds)); err != nil || !slices.Equal(back, tt.seeds) {
				t.Errorf("ParseSeeds(FormatSeeds(%v)) = %v, %v", tt.seeds, back, err)
			}
		}
	}
}

// TestSpecErrorCountsOneRun: an experiment of one run left out says "1 of
// its 1 run", not "1 runs".
func TestSpecErrorCountsOneRun(t *testing.T) {
	dir := t.TempDir()
	s := &Spec{Base: []Setting{{"epochs", "3"}}, Seeds: []uint64{0}}
	if err := record(t, dir, s); err != nil {
		t.Fatal(err)
	}
	runs, _ := Plan(dir, s, testApply)
	if err := os.MkdirAll(runs[0].Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	err := record(t, dir, &Spec{Base: s.Base, Seeds: []uint64{1}})
	if err == nil || !strings.Contains(err.Error(), "leaves out 1 of its 1 run: configuration base;") {
		t.Errorf("%v, want \"leaves out 1 of its 1 run: configuration base;\"", err)
	}
}
