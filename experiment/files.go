package experiment

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/internal/lockfile"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/regular"
	"github.com/cifarnet/cifarnet/train"
)

// fileSettings are the settings whose value names a file whose content is
// part of a run's configuration (a Keras model file).
var fileSettings = map[string]bool{"model": true}

// FileChangedError is a file a setting names whose content is no longer
// what it was when the experiment began: its runs, named by the
// configuration's hash, would silently become other runs.
type FileChangedError struct {
	Setting, Path string
	Was, Now      string // SHA-256, hex
}

func (e *FileChangedError) Error() string {
	return fmt.Sprintf("%s %s changed since the experiment began (SHA-256 %.12s… then, %.12s… now): its recorded runs are of the old file; restore it, or run the new one in another experiment directory",
		e.Setting, e.Path, e.Was, e.Now)
}

// Pin records where the experiment begins (workdir, which relative file
// paths in its settings are relative to) and the SHA-256 of each file a
// setting names, so that the experiment reads the same files from any
// directory later (experiment report, collect, a Slurm task) and refuses
// one that changed (a command that only reads the runs is warned instead:
// PlanRecorded). A file that cannot be read is left for its setting to
// report.
func (s *Spec) Pin(workdir string) {
	abs, err := filepath.Abs(workdir)
	if err != nil {
		return
	}
	s.Workdir, s.Files = abs, nil
	visit := func(st Setting) {
		if !fileSettings[st.Name] || st.Value == "" {
			return
		}
		if sum := s.sum(s.path(st.Value)); sum != "" {
			if s.Files == nil {
				s.Files = map[string]string{}
			}
			s.Files[st.Value] = sum
		}
	}
	s.eachSetting(visit)
}

// sum is the SHA-256 of file p ("" if it cannot be read), read once per
// spec: a command plans and checks a spec several times.
func (s *Spec) sum(p string) string {
	if v, ok := s.sums[p]; ok {
		return v
	}
	v, _ := dataset.FileSHA256(p)
	if s.sums == nil {
		s.sums = map[string]string{}
	}
	s.sums[p] = v
	return v
}

// path is a setting's file path resolved against the spec's Workdir (an
// experiment recorded before there was one: as given, against the
// current directory).
func (s *Spec) path(p string) string {
	if s.Workdir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Workdir, p)
}

// withFiles returns apply with the spec's file settings resolved against
// its Workdir and checked against the content Pin recorded.
func (s *Spec) withFiles(apply Apply) Apply {
	if s.Workdir == "" && len(s.Files) == 0 {
		return apply
	}
	return func(settings []Setting) (train.Config, error) {
		out := append([]Setting(nil), settings...)
		for i, st := range out {
			if !fileSettings[st.Name] || st.Value == "" {
				continue
			}
			p := s.path(st.Value)
			if err := s.changed(st); err != nil {
				return train.Config{}, err
			}
			if here, err := filepath.Abs(st.Value); err != nil || here != p {
				// Only where the current directory would read another
				// file: errors then name the one given, as typed.
				out[i].Value = p
			}
		}
		return apply(out)
	}
}

// DataSum is the SHA-256 of the data runs of an experiment train on, as
// their metrics.json has it (rundir.DataChecksum: the first TrainSamples
// training and TestSamples test images of the data set).
type DataSum struct {
	Data         string `json:"data"`
	Labels       string `json:"labels,omitempty"`
	TrainSamples int    `json:"train_samples"`
	TestSamples  int    `json:"test_samples"`
	SHA256       string `json:"sha256"`
}

// DataChangedError is data loaded to train an experiment's runs that are
// not the data its recorded runs were trained on: its statistics would
// pool runs of two data sets.
type DataChangedError struct {
	Dir, Source string
	Was, Now    string // SHA-256, hex
}

func (e *DataChangedError) Error() string {
	return fmt.Sprintf("experiment %s: the data at %s are not those its runs were trained on (SHA-256 %.12s… then, %.12s… now): give the experiment's own data, or use another experiment directory",
		e.Dir, e.Source, e.Was, e.Now)
}

// recordData checks the data loaded for runs (todo) against the SHA-256
// recorded in dir's spec.json, each that they cover, and records those
// of the runs not yet recorded, in one step across processes (LockFile):
// shards started together record them once and agree. A spec.json of an
// earlier version, without them, takes them from the finished runs'
// metrics.json (of runs) first: the data those runs were trained on.
func recordData(dir string, data map[string]*loaded, runs, todo []Run) error {
	lock, err := lockfile.Block(filepath.Join(dir, LockFile))
	if err != nil {
		return fmt.Errorf("experiment %s: %w", dir, oserr.Bare(err))
	}
	defer lock.Unlock()
	path := filepath.Join(dir, SpecFile)
	b, err := regular.ReadFile(path, maxSpecJSON)
	if err != nil {
		return fmt.Errorf("experiment %s: %s: %w", dir, SpecFile, oserr.Bare(err))
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("experiment %s: %s: %v", dir, SpecFile, err)
	}
	if err := s.checkData(); err != nil {
		return fmt.Errorf("experiment %s: %s: %v", dir, SpecFile, err)
	}
	n := len(s.Data)
	has := func(c train.Config) bool {
		return slices.ContainsFunc(s.Data, func(d DataSum) bool {
			return d.Data == c.Dataset && d.Labels == c.LabelMode && d.TrainSamples == c.TrainSamples && d.TestSamples == c.TestSamples
		})
	}
	for _, r := range runs {
		if has(r.Config) || Status(r) != "finished" {
			continue
		}
		if m, err := train.ReadMetrics(r.Dir); err == nil && len(m.Env.DataSHA256) == 64 {
			c := r.Config
			s.Data = append(s.Data, DataSum{Data: c.Dataset, Labels: c.LabelMode, TrainSamples: c.TrainSamples, TestSamples: c.TestSamples, SHA256: m.Env.DataSHA256})
		}
	}
	for _, d := range s.Data {
		l := data[d.Data+"/"+d.Labels]
		if l == nil || d.TrainSamples > l.data.Train.Len() || d.TestSamples > l.data.Test.Len() {
			continue // not loaded by this command: its runs do not use them
		}
		if now := l.sum(d.TrainSamples, d.TestSamples); now != d.SHA256 {
			return &DataChangedError{Dir: dir, Source: l.source, Was: d.SHA256, Now: now}
		}
	}
	for _, r := range todo {
		c := r.Config
		if !has(c) {
			s.Data = append(s.Data, DataSum{Data: c.Dataset, Labels: c.LabelMode, TrainSamples: c.TrainSamples, TestSamples: c.TestSamples,
				SHA256: data[dataKey(c)].checksum(c)})
		}
	}
	if len(s.Data) == n {
		return nil
	}
	return atomicfile.WriteFile(path, mustJSON(&s), 0o644)
}

// changedFiles are the files the settings of s name whose content is no
// longer what Pin recorded, each once, in the order the settings give
// them.
func (s *Spec) changedFiles() []*FileChangedError {
	var out []*FileChangedError
	seen := map[string]bool{}
	visit := func(st Setting) {
		if _, ok := s.Files[st.Value]; !fileSettings[st.Name] || !ok || seen[st.Value] {
			return
		}
		seen[st.Value] = true
		if err := s.changed(st); err != nil {
			out = append(out, err)
		}
	}
	s.eachSetting(visit)
	return out
}

// changed is the file setting st names if its content is no longer what
// Pin recorded (an unreadable file is not: its setting says why), else
// nil.
func (s *Spec) changed(st Setting) *FileChangedError {
	want, ok := s.Files[st.Value]
	if !ok {
		return nil
	}
	if now := s.sum(s.path(st.Value)); now != "" && now != want {
		return &FileChangedError{Setting: st.Name, Path: st.Value, Was: want, Now: now}
	}
	return nil
}

// PlanRecorded plans the runs of s in dir for a command that trains
// nothing and only reads the runs (experiment report, collect). It is
// Plan, except where a file a setting names (a model) changed since the
// experiment began. Plan refuses that, since the new file's runs would be
// other runs under other names; but the runs to read are those trained,
// and experiment.json names each by configuration and seed with its
// directory. PlanRecorded then takes their directories from there and
// returns the changed files, for the command to warn of; the runs'
// Config is the settings' as the files are now, not as trained, so only
// their Label, Factors, Seed and Dir are to be used. Where experiment.json
// does not name every run the spec plans (not written yet, or of fewer
// seeds), the runs cannot be found and Plan's error stands.
func PlanRecorded(dir string, s *Spec, apply Apply) ([]Run, []*FileChangedError, error) {
	runs, err := planRuns(dir, s, apply, false)
	var changed *FileChangedError
	if !errors.As(err, &changed) {
		return runs, nil, err
	}
	files := s.changedFiles()
	now := *s
	now.Files = nil // the files as they are: labels, factors and seeds
	runs, perr := planRuns(dir, &now, apply, false)
	if perr != nil || len(files) == 0 {
		return nil, nil, err
	}
	unnamed := fmt.Errorf("%w (and %s, which names the runs trained, does not name them all)", err, ExperimentJSON)
	recorded, ok := recordedRuns(dir)
	if !ok {
		return nil, nil, unnamed
	}
	used := map[string]bool{}
	for i, r := range runs {
		d, ok := recorded[runKey{r.Label, r.Seed}]
		if !ok || used[d] {
			return nil, nil, unnamed
		}
		used[d] = true
		runs[i].Dir = filepath.Join(dir, d)
	}
	return runs, files, nil
}

// runKey names a run of an experiment: its configuration's label and its
// seed.
type runKey struct {
	label string
	seed  uint64
}

// recordedRuns reads the run directories experiment.json names, relative
// to the experiment directory, by configuration and seed; ok is false
// where it cannot be read, or names a directory that is not one of
// runs/ (an edited file) or one run twice.
func recordedRuns(dir string) (map[runKey]string, bool) {
	b, err := regular.ReadFile(filepath.Join(dir, ExperimentJSON), maxExperimentJSON)
	if err != nil {
		return nil, false
	}
	var sum struct {
		Runs []RunSummary `json:"runs"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		return nil, false
	}
	out := map[runKey]string{}
	for _, r := range sum.Runs {
		k := runKey{r.Config, r.Seed}
		if _, twice := out[k]; twice || filepath.Dir(r.Dir) != RunsDir || !isRunName(filepath.Base(r.Dir)) {
			return nil, false
		}
		out[k] = r.Dir
	}
	return out, true
}

// maxExperimentJSON bounds the experiment.json read for its runs: MaxRuns
// runs of a few hundred bytes each, and their statistics.
const maxExperimentJSON = 256 << 20

// isRunName tells whether name is a run directory's name as Hash writes
// it: 16 lowercase hex digits.
func isRunName(name string) bool { return isLowerHex(name, 16) }

// eachSetting calls visit with every setting of s: the base's, the named
// configurations', and each value of the grid.
func (s *Spec) eachSetting(visit func(Setting)) {
	for _, st := range s.Base {
		visit(st)
	}
	for _, c := range s.Configs {
		for _, st := range c.Settings {
			visit(st)
		}
	}
	for _, a := range s.Grid {
		for _, v := range a.Values {
			visit(Setting{a.Name, v})
		}
	}
}
