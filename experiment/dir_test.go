package experiment

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cifarnet/cifarnet/dataset"
)

// TestRecordSpecRace: two commands of other settings started together on
// one new directory: exactly one records its experiment, the other is
// refused as a rerun on it would be, and spec.json is the first's. Both
// hold their use of the directory to the end, as commands training runs
// do; the race is run 50 times to make every interleaving likely.
func TestRecordSpecRace(t *testing.T) {
	specs := [2]*Spec{
		{Base: []Setting{{"epochs", "1"}}, Seeds: []uint64{0, 1}, Grid: []Axis{{"activation", []string{"elu", "relu"}}}},
		{Base: []Setting{{"epochs", "2"}}, Seeds: []uint64{0, 1}, Grid: []Axis{{"activation", []string{"elu", "relu"}}}},
	}
	var plans [2][]Run
	for round := range 50 {
		dir := filepath.Join(t.TempDir(), "exp")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range specs {
			var err error
			if plans[i], err = Plan(dir, s, testApply); err != nil {
				t.Fatal(err)
			}
		}
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			uses  [2]*Use
			errs  [2]error
		)
		for i := range specs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				uses[i], errs[i] = RecordSpec(dir, specs[i], plans[i], testApply)
			}()
		}
		close(start)
		wg.Wait()
		for _, u := range uses {
			u.Release()
		}
		won := -1
		var se *SpecError
		switch {
		case errs[0] == nil && errors.As(errs[1], &se):
			won = 0
		case errs[1] == nil && errors.As(errs[0], &se):
			won = 1
		default:
			t.Fatalf("round %d: %v and %v, want one accepted and the other refused", round, errs[0], errs[1])
		}
		if rec, err := ReadSpec(dir); err != nil || rec.Base[0] != specs[won].Base[0] {
			t.Fatalf("round %d: spec.json %+v %v, want the accepted one's", round, rec, err)
		}
	}
}

// TestRecordSpecReplacedOnlyWhenUnused: an experiment none of whose runs
// began is replaced by another only once no command is using it.
func TestRecordSpecReplacedOnlyWhenUnused(t *testing.T) {
	dir := t.TempDir()
	a := &Spec{Base: []Setting{{"epochs", "1"}}, Seeds: []uint64{0, 1}}
	b := &Spec{Base: []Setting{{"epochs", "2"}}, Seeds: []uint64{0, 1}}
	ua, err := RecordSpec(dir, a, nil, testApply)
	if err != nil {
		t.Fatal(err)
	}
	var se *SpecError
	if _, err := RecordSpec(dir, b, nil, testApply); !errors.As(err, &se) {
		t.Fatalf("another experiment while the first is used: %v, want a SpecError", err)
	}
	// Its extension is the same experiment, but must keep every run it
	// may begin.
	more := *a
	more.Seeds = []uint64{0, 1, 2}
	runs, _ := Plan(dir, &more, testApply)
	if u, err := RecordSpec(dir, &more, runs, testApply); err != nil {
		t.Errorf("extended while used: %v", err)
	} else {
		u.Release()
	}
	fewer := *a
	fewer.Seeds = []uint64{0}
	runs, _ = Plan(dir, &fewer, testApply)
	if _, err := RecordSpec(dir, &fewer, runs, testApply); !errors.As(err, &se) {
		t.Errorf("seeds left out while used: %v, want a SpecError", err)
	}
	ua.Release()
	if err := recordOnce(dir, b, nil, testApply); err != nil {
		t.Errorf("another experiment once the first ended, none of its runs begun: %v", err)
	}
}

// TestNotAnExperimentDirectory: a directory holding no spec.json but
// files an experiment writes or a run's is refused and left as it was; an
// empty one, one holding what a killed command left, or other files (a
// spec file kept beside the results) is used.
func TestNotAnExperimentDirectory(t *testing.T) {
	s := &Spec{Seeds: []uint64{0}}
	dir := t.TempDir()
	mine := filepath.Join(dir, "report.html")
	os.WriteFile(mine, []byte("mine"), 0o644)
	var ne *NotExperimentError
	err := recordOnce(dir, s, nil, testApply)
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "not an experiment directory: it holds report.html and no spec.json") {
		t.Fatalf("a directory of other files: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the refused directory holds %d entries, want its one file", len(ents))
	}
	if b, _ := os.ReadFile(mine); string(b) != "mine" {
		t.Errorf("report.html overwritten: %q", b)
	}
	// A spec.json of someone else's (no seeds) is no experiment's.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, SpecFile), []byte(`{"name": "my project"}`), 0o644)
	os.WriteFile(filepath.Join(other, "report.html"), []byte("mine"), 0o644)
	if err := recordOnce(other, s, nil, testApply); !errors.As(err, &ne) || ne.File != SpecFile || !strings.Contains(err.Error(), "its spec.json is not an experiment's") {
		t.Errorf("a spec.json of someone else's: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(other, "report.html")); string(b) != "mine" {
		t.Errorf("report.html beside another spec.json overwritten: %q", b)
	}
	for _, n := range []string{"metrics.json", "runs", "accuracy_box.svg", "accuracy_vs_lr.png", "experiment.sbatch", "slurm"} {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, n), nil, 0o644)
		if err := recordOnce(d, s, nil, testApply); !errors.As(err, &ne) || ne.File != n {
			t.Errorf("a directory holding %s: %v", n, err)
		}
	}
	// What a killed command left, and files an experiment never writes (a
	// spec file kept beside the results, a README, dotfiles), are no
	// reason to refuse it.
	left := t.TempDir()
	for _, n := range []string{LockFile, UseFile, "." + SpecFile + ".tmp123", "act.toml", "README.md", ".gitkeep", "notes.png"} {
		os.WriteFile(filepath.Join(left, n), nil, 0o644)
	}
	for _, d := range []string{t.TempDir(), left} {
		if err := recordOnce(d, s, nil, testApply); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}

// loadedData is a data set of n training and n test images of one byte,
// the i-th of value i (+1 where changed).
func loadedData(n int, changed bool) *loaded {
	set := func() *dataset.Set {
		s := &dataset.Set{Shape: dataset.Shape{Height: 1, Width: 1, Channels: 1}}
		for i := range n {
			s.Pixels = append(s.Pixels, uint8(i))
			s.Labels = append(s.Labels, 0)
		}
		if changed {
			s.Pixels[0]++
		}
		return s
	}
	return &loaded{source: "data", data: &dataset.Data{Train: set(), Test: set()}, sums: map[[2]int]string{}}
}

// TestRecordData: the data's SHA-256 is recorded by the first command to
// train runs, once however many shards start together, and other data
// are refused later, naming both; a spec.json without it gets it.
func TestRecordData(t *testing.T) {
	dir := t.TempDir()
	s := &Spec{Base: []Setting{{"train-samples", "8"}, {"test-samples", "4"}}, Seeds: []uint64{0, 1, 2, 3}}
	runs, err := Plan(dir, s, testApply)
	if err != nil {
		t.Fatal(err)
	}
	if err := recordOnce(dir, s, runs, testApply); err != nil {
		t.Fatal(err)
	}
	key := dataKey(runs[0].Config)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = recordData(dir, map[string]*loaded{key: loadedData(10, false)}, runs, Shard(runs, i, 4))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("shard %d: %v", i, err)
		}
	}
	rec, err := ReadSpec(dir)
	if err != nil || len(rec.Data) != 1 || rec.Data[0].TrainSamples != 8 || rec.Data[0].SHA256 != loadedData(10, false).sum(8, 4) {
		t.Fatalf("recorded %+v %v, want the one SHA-256 of the runs' data", rec.Data, err)
	}
	// A rerun (its spec recorded again) keeps it once a run began.
	if err := os.MkdirAll(runs[0].Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := recordOnce(dir, s, runs, testApply); err != nil {
		t.Fatal(err)
	}
	var dc *DataChangedError
	err = recordData(dir, map[string]*loaded{key: loadedData(10, true)}, runs, runs)
	if !errors.As(err, &dc) || !strings.Contains(err.Error(), "the data at data are not those its runs were trained on (SHA-256 "+rec.Data[0].SHA256[:12]+"… then, "+loadedData(10, true).sum(8, 4)[:12]+"… now)") {
		t.Fatalf("other data: %v, want a DataChangedError naming both", err)
	}
	// A spec.json of an earlier version: recorded now.
	rec.Data = nil
	os.WriteFile(filepath.Join(dir, SpecFile), mustJSON(rec), 0o644)
	if err := recordData(dir, map[string]*loaded{key: loadedData(10, false)}, runs, runs); err != nil {
		t.Fatal(err)
	}
	if rec, err := ReadSpec(dir); err != nil || len(rec.Data) != 1 {
		t.Errorf("an old spec.json: %+v %v, want the data recorded", rec, err)
	}
	// An edited entry is refused, naming it (a negative count panicked
	// slicing the data).
	rec, err = ReadSpec(dir)
	if err != nil {
		t.Fatal(err)
	}
	good := rec.Data[0]
	for _, bad := range []DataSum{{Data: good.Data, TrainSamples: -200, TestSamples: 4, SHA256: good.SHA256},
		{Data: good.Data, TrainSamples: 8, TestSamples: 0, SHA256: good.SHA256},
		{Data: good.Data, TrainSamples: 8, TestSamples: 4, SHA256: strings.ToUpper(good.SHA256)}} {
		rec.Data = []DataSum{bad}
		os.WriteFile(filepath.Join(dir, SpecFile), mustJSON(rec), 0o644)
		if err := recordData(dir, map[string]*loaded{key: loadedData(10, false)}, runs, runs); err == nil || !strings.Contains(err.Error(), "spec.json: data_sha256[0]: ") {
			t.Errorf("spec.json recording %+v: %v, want it refused by name", bad, err)
		}
		if _, err := ReadSpec(dir); err == nil || !strings.Contains(err.Error(), "data_sha256[0]") {
			t.Errorf("ReadSpec of %+v: %v", bad, err)
		}
	}
}
