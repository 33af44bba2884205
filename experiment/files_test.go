package experiment

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/train"
)

// fileApply is testApply with a "model" setting: a file read where the
// value says (relative to the current directory, as the command line's),
// whose length is the hidden width.
func fileApply(settings []Setting) (train.Config, error) {
	var rest []Setting
	width := 0
	for _, s := range settings {
		if s.Name != "model" {
			rest = append(rest, s)
			continue
		}
		b, err := os.ReadFile(s.Value)
		if err != nil {
			return train.Config{}, err
		}
		width = len(b)
	}
	c, err := testApply(rest)
	if width > 0 {
		c.Hidden = []int{width}
	}
	return c, err
}

// TestPinnedFiles: a spec pinned in one directory reads its relative
// model paths from there wherever it is planned later (experiment report
// from elsewhere failed with "no such file"), and a model file changed
// since is refused, by Plan and by a rerun into the same directory,
// instead of planning other runs and reporting the recorded ones missing.
func TestPinnedFiles(t *testing.T) {
	work, dir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "m.json"), []byte("1234"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Spec{Base: []Setting{{"epochs", "1"}}, Grid: []Axis{{"model", []string{"m.json"}}, {"lr", []string{"0.001", "0.01"}}}, Seeds: []uint64{0}}
	s.Pin(work)
	if s.Workdir != work || len(s.Files) != 1 || s.Files["m.json"] == "" {
		t.Fatalf("pinned %q %v", s.Workdir, s.Files)
	}
	runs, err := Plan(dir, s, fileApply) // this process's directory is not work
	if err != nil || len(runs) != 2 || runs[0].Config.Hidden[0] != 4 {
		t.Fatalf("planned from elsewhere: %v %v", runs, err)
	}
	if err := recordOnce(dir, s, runs, fileApply); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(runs[0].Dir, 0o755); err != nil { // a run began
		t.Fatal(err)
	}
	rec, err := ReadSpec(dir)
	if err != nil || rec.Workdir != work {
		t.Fatalf("recorded spec: %+v %v", rec, err)
	}
	// The same experiment from another directory holding the same file:
	// the record stands (a command that fails changes nothing).
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "m.json"), []byte("1234"), 0o644); err != nil {
		t.Fatal(err)
	}
	elsewhere := &Spec{Base: s.Base, Grid: s.Grid, Seeds: s.Seeds}
	elsewhere.Pin(other)
	if err := recordOnce(dir, elsewhere, runs, fileApply); err != nil {
		t.Fatal(err)
	}
	if rec, err := ReadSpec(dir); err != nil || rec.Workdir != work {
		t.Errorf("rerun from elsewhere rewrote the spec: %+v %v", rec, err)
	}

	if err := os.WriteFile(filepath.Join(work, "m.json"), []byte("123456"), 0o644); err != nil {
		t.Fatal(err)
	}
	var changed *FileChangedError
	if _, err := Plan(dir, rec, fileApply); !errors.As(err, &changed) || changed.Path != "m.json" {
		t.Errorf("planned with the file changed: %v", err)
	}
	again := &Spec{Base: s.Base, Grid: s.Grid, Seeds: s.Seeds}
	again.Pin(work)
	newRuns, err := Plan(dir, again, fileApply)
	if err != nil {
		t.Fatal(err)
	}
	var se *SpecError
	if err := recordOnce(dir, again, newRuns, fileApply); !errors.As(err, &se) || se.Changed == nil {
		t.Errorf("rerun with the file changed: %v", err)
	}
}

// TestInputNameNotInTheHash: the name of a model file's InputLayer, kept
// for the model.json a run writes, changes no result and so no run's
// directory (files written as input_layer_1 by Keras were all reported
// missing).
func TestInputNameNotInTheHash(t *testing.T) {
	mc := nn.ModelConfig{Name: "m", InputShape: []int{8}, Layers: []nn.LayerConfig{{ClassName: "Dense", Config: map[string]any{"name": "out", "units": 3.0, "activation": "softmax"}}}}
	named := mc
	named.InputName = "input_layer_1"
	a, b := train.Exercise(), train.Exercise()
	a.Model, b.Model = &mc, &named
	if Hash(a) != Hash(b) {
		t.Error("the InputLayer's name changed the configuration's hash")
	}
}

// TestPlanRecorded: once a model file changed, a command that only reads
// the runs (report, collect) finds them where experiment.json says the
// runs trained are, and is told which file changed, where Plan refuses;
// without a record of every run it is refused as Plan is.
func TestPlanRecorded(t *testing.T) {
	work, dir := t.TempDir(), t.TempDir()
	model := filepath.Join(work, "m.json")
	if err := os.WriteFile(model, []byte("1234"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Spec{Base: []Setting{{"epochs", "1"}}, Grid: []Axis{{"model", []string{"m.json"}}, {"lr", []string{"0.001", "0.01"}}}, Seeds: []uint64{0, 1}}
	s.Pin(work)
	runs, changed, err := PlanRecorded(dir, s, fileApply)
	if err != nil || len(runs) != 4 || changed != nil {
		t.Fatalf("unchanged: %d runs, changed %v, %v", len(runs), changed, err)
	}
	record := func(runs []Run) {
		t.Helper()
		sum := &Summary{Spec: s}
		for _, r := range runs {
			rel, _ := filepath.Rel(dir, r.Dir)
			sum.Runs = append(sum.Runs, RunSummary{Config: r.Label, Factors: r.Factors, Seed: r.Seed, Dir: rel})
		}
		if err := atomicfile.WriteJSON(filepath.Join(dir, ExperimentJSON), sum); err != nil {
			t.Fatal(err)
		}
	}
	record(runs)
	if err := os.WriteFile(model, []byte("123456"), 0o644); err != nil {
		t.Fatal(err)
	}
	// As a later command reads the spec (a process reads each file once).
	s = &Spec{Base: s.Base, Grid: s.Grid, Seeds: s.Seeds, Workdir: s.Workdir, Files: s.Files}
	var fc *FileChangedError
	if _, err := Plan(dir, s, fileApply); !errors.As(err, &fc) {
		t.Fatalf("Plan with the file changed: %v", err)
	}
	got, changed, err := PlanRecorded(dir, s, fileApply)
	if err != nil || len(changed) != 1 || changed[0].Path != "m.json" || changed[0].Setting != "model" || changed[0].Was != s.Files["m.json"] {
		t.Fatalf("changed: %v, %v", changed, err)
	}
	for i, r := range got {
		if r.Dir != runs[i].Dir || r.Label != runs[i].Label || r.Seed != runs[i].Seed {
			t.Errorf("run %d: %s %d in %s, want the run trained: %s %d in %s", i, r.Label, r.Seed, r.Dir, runs[i].Label, runs[i].Seed, runs[i].Dir)
		}
	}
	// A record without a run of the spec, or with a directory outside
	// runs/, finds nothing.
	for _, bad := range [][]Run{runs[:3], {runs[0], runs[1], runs[2], {Label: runs[3].Label, Seed: runs[3].Seed, Dir: filepath.Join(dir, "..", "elsewhere")}}} {
		record(bad)
		if _, _, err := PlanRecorded(dir, s, fileApply); !errors.As(err, &fc) || !strings.Contains(err.Error(), ExperimentJSON) {
			t.Errorf("recorded %d runs, the last in %s: %v", len(bad), bad[len(bad)-1].Dir, err)
		}
	}
	os.Remove(filepath.Join(dir, ExperimentJSON))
	if _, _, err := PlanRecorded(dir, s, fileApply); !errors.As(err, &fc) {
		t.Errorf("no %s: %v", ExperimentJSON, err)
	}
}
