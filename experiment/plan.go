package experiment

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cifarnet/cifarnet/internal/finitejson"
	"github.com/cifarnet/cifarnet/internal/memlimit"
	"github.com/cifarnet/cifarnet/internal/quote"
	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/train"
)

// Apply returns train's configuration with the given settings (by their
// flag names) applied, in order, to its defaults: the command line's flags
// are the one place settings are parsed.
type Apply func(settings []Setting) (train.Config, error)

// Run is one (configuration, seed) of an experiment.
type Run struct {
	// Label names the configuration: "activation=relu lr=0.001", or
	// "base" when nothing varies.
	Label   string
	Factors []report.Factor
	Seed    uint64
	Config  train.Config
	// Dir is the run directory: runs/<hash of Config> under the
	// experiment directory.
	Dir string
	// Index is the run's place in the experiment (shards split by it).
	Index int
}

// RunsDir is where the runs' directories are, in the experiment directory.
const RunsDir = "runs"

// Plan lists the runs of s in dir: named configuration by named
// configuration (when there are any), then grid combination by
// combination (the first grid setting varying slowest), then seed by
// seed. Two configurations that come out the same once applied (lr=0.001
// and lr=1e-3, or a named configuration that changes nothing another does
// not) are refused: they would share their runs.
func Plan(dir string, s *Spec, apply Apply) ([]Run, error) { return planRuns(dir, s, apply, true) }

// planRuns is Plan; oneTask refuses configurations on different data sets,
// which the commands that train refuse, while a report or a collect of
// runs an earlier version trained that way still plans them.
func planRuns(dir string, s *Spec, apply Apply, oneTask bool) ([]Run, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	apply = s.withFiles(apply)
	if _, err := apply(s.Base); err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	configs := s.Configs
	if len(configs) == 0 {
		configs = []NamedConfig{{}} // the base, unnamed
	}
	n := 1
	for _, a := range s.Grid {
		n *= len(a.Values)
		if n*len(s.Seeds) > MaxRuns {
			return nil, fmt.Errorf("the grid and seeds make more than %d runs", MaxRuns)
		}
	}
	if len(configs)*n*len(s.Seeds) > MaxRuns {
		return nil, fmt.Errorf("%d named configurations, the grid and seeds make more than %d runs", len(configs), MaxRuns)
	}
	// The memory available, read once: reading it costs more than the
	// rest of a configuration's validation.
	avail := memlimit.Available()
	var runs []Run
	labels := map[string]bool{}
	same := map[string]string{} // a configuration's hash (seed left out): its label
	var task, taskOf string     // the first configuration's data set (and labels), and its label
	for _, nc := range configs {
		base := override(s.Base, nc.Settings)
		for c := 0; c < n; c++ {
			var factors []report.Factor
			var parts []string
			if nc.Name != "" {
				factors = append(factors, report.Factor{Name: NameFactor, Value: nc.Name})
				parts = append(parts, nc.Name)
			}
			var grid []report.Factor
			k := c
			for i := len(s.Grid) - 1; i >= 0; i-- {
				a := s.Grid[i]
				v := a.Values[k%len(a.Values)]
				k /= len(a.Values)
				grid = append([]report.Factor{{Name: a.Name, Value: v}}, grid...)
			}
			settings := append([]Setting(nil), base...)
			own := append([]Setting(nil), nc.Settings...)
			for _, f := range grid {
				settings = append(settings, Setting{f.Name, f.Value})
				own = append(own, Setting{f.Name, f.Value})
				parts = append(parts, f.Name+"="+f.Value)
			}
			factors = append(factors, grid...)
			label := strings.Join(parts, " ")
			where := "grid " + label
			switch {
			case nc.Name != "":
				where = "config " + label
			case label == "":
				label, where = "base", "base"
			}
			cc, err := apply(settings)
			if err != nil {
				return nil, &ConfigError{Where: where, Settings: own, Err: err}
			}
			labels[label] = true
			// The seed never makes a configuration invalid: it is validated
			// once, not for each of thousands of seeds.
			cc.Seed = s.Seeds[0]
			if err := cc.ValidateWithin(avail); err != nil {
				return nil, &ConfigError{Where: where, Settings: own, Err: err}
			}
			// Each data set (CIFAR-100's label modes too) is scored on a
			// test set of its own: accuracies across them compare the
			// tasks, not the settings, and no statistic here says so.
			info, _ := cc.Info() // known: ValidateWithin checked it
			switch t := info.Title(); {
			case taskOf == "":
				task, taskOf = t, label
			case t != task && oneTask:
				return nil, fmt.Errorf("%s: trains on %s, where %s trains on %s: accuracies on different data sets are not a controlled comparison (each has its own test set); run one experiment per data set", where, t, taskOf, task)
			}
			id := cc
			id.Seed = 0
			h := Hash(id)
			if other, ok := same[h]; ok {
				return nil, fmt.Errorf("%s: the same configuration as %s once its settings are applied (they would share their runs): give each configuration once", where, other)
			}
			same[h] = label
			for _, seed := range s.Seeds {
				rc := cc
				rc.Seed = seed
				runs = append(runs, Run{Label: label, Factors: factors, Seed: seed, Config: rc,
					Dir: filepath.Join(dir, RunsDir, Hash(rc)), Index: len(runs)})
			}
		}
	}
	if s.Baseline != "" && !labels[s.Baseline] {
		if n := labelSpelling(s.Baseline); labels[n] {
			s.Baseline = n // "train_samples=2000": '_' and '-' are the same in setting names
		} else {
			return nil, fmt.Errorf("baseline %s is not one of the configurations (%s)", quote.Short(s.Baseline), labelList(runs))
		}
	}
	return runs, nil
}

// labelSpelling is a configuration's label with its settings' names in the
// flags' spelling (settingName): each word NAME=VALUE whose NAME holds no
// bracket (a value's own "a=b" inside a layer list is left alone).
func labelSpelling(label string) string {
	words := strings.Split(label, " ")
	for i, w := range words {
		if name, value, ok := strings.Cut(w, "="); ok && !strings.ContainsAny(name, "()[]") {
			words[i] = settingName(name) + "=" + value
		}
	}
	return strings.Join(words, " ")
}

// override returns base with each of settings replacing the base's value
// of the same setting, in its place, or added after.
func override(base, settings []Setting) []Setting {
	out := append([]Setting(nil), base...)
	for _, st := range settings {
		i := slices.IndexFunc(out, func(b Setting) bool { return b.Name == st.Name })
		if i >= 0 {
			out[i] = st
		} else {
			out = append(out, st)
		}
	}
	return out
}

// ConfigError is a configuration of an experiment that cannot be trained:
// Where names it ("base", "grid activation=relu lr=0.01"), Settings are
// what it sets beyond the base (so that the command line can leave out a
// setting the error would otherwise name twice), Err says what is wrong.
type ConfigError struct {
	Where    string
	Settings []Setting
	Err      error
}

func (e *ConfigError) Error() string { return e.Where + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// labelList names the configurations of runs, the first few of a long
// list: "activation=elu, activation=relu".
func labelList(runs []Run) string {
	var labels []string
	for _, r := range runs {
		if len(labels) == 0 || labels[len(labels)-1] != r.Label {
			labels = append(labels, r.Label)
		}
	}
	if len(labels) > 6 {
		return strings.Join(labels[:5], ", ") + fmt.Sprintf(", ... %d in all", len(labels))
	}
	return strings.Join(labels, ", ")
}

// Hash names a run: the SHA-256 of its configuration (seed included,
// threads left out since they never change a result) as JSON, 16 hex
// digits.
func Hash(cfg train.Config) string {
	cfg.Threads = 0
	b, err := finitejson.Marshal(cfg)
	if err != nil {
		panic(err) // a Config always marshals
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// Shard returns the runs of shard i of n: every n-th run from the i-th,
// so that each shard gets a share of every configuration.
func Shard(runs []Run, i, n int) []Run {
	var out []Run
	for _, r := range runs {
		if r.Index%n == i {
			out = append(out, r)
		}
	}
	return out
}
