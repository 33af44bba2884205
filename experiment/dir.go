package experiment

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cifarnet/cifarnet/internal/lockfile"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/regular"
	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/saving"
	"github.com/cifarnet/cifarnet/train"
)

// LockFile, in an experiment directory, is locked (flock) while a command
// compares its experiment with spec.json and records it, so that two
// commands started together take turns; UseFile is locked shared by every
// command using the experiment, from then until it ends, so that an
// experiment none of whose runs began yet is replaced only when no
// command is about to begin them.
const (
	LockFile = ".cifarnet.lock"
	UseFile  = ".cifarnet.use"
)

// Use is a command's hold on an experiment directory (see RecordSpec),
// released by Release or when the process ends, however it ends.
type Use struct{ lock *lockfile.Lock }

// Release ends the hold.
func (u *Use) Release() {
	if u != nil {
		u.lock.Unlock()
	}
}

// use takes a hold on dir's experiment, saying whether another command
// holds one; the caller holds LockFile, so no other command takes or
// tests a hold meanwhile.
func use(dir string) (u *Use, live bool, err error) {
	name := filepath.Join(dir, UseFile)
	l, err := lockfile.TryLock(name)
	switch {
	case errors.Is(err, lockfile.ErrHeld):
		live = true
	case err != nil:
		return nil, false, fmt.Errorf("experiment %s: %w", dir, oserr.Bare(err))
	default:
		l.Unlock()
	}
	if l, err = lockfile.TryShared(name); err != nil {
		return nil, false, fmt.Errorf("experiment %s: %w", dir, oserr.Bare(err))
	}
	return &Use{l}, live, nil
}

// NotExperimentError is a directory given as an experiment's that holds
// no spec.json but a file an experiment writes (report.html, runs.csv,
// its figures, runs/) or a run's (a run directory): recording an
// experiment there would overwrite them, or mix its runs with another's.
type NotExperimentError struct{ Dir, File string }

func (e *NotExperimentError) Error() string {
	if e.File == SpecFile {
		return fmt.Sprintf("experiment %s: not an experiment directory: its %s is not an experiment's (it has no seeds); use a new directory, or one without it", e.Dir, SpecFile)
	}
	return fmt.Sprintf("experiment %s: not an experiment directory: it holds %s and no %s, which an experiment would overwrite; use a new directory, or one without them", e.Dir, e.File, SpecFile)
}

// SlurmScript and SlurmDir are what "cifarnet experiment slurm" writes in
// the experiment directory: the sbatch script and its tasks' output.
const (
	SlurmScript = "experiment.sbatch"
	SlurmDir    = "slurm"
)

// experimentWrites are the names an experiment writes in its directory,
// and a run's own files (a run directory): beside them, without a
// spec.json, a directory is someone else's.
var experimentWrites = map[string]bool{
	RunsDir: true, ExperimentJSON: true, RunsCSV: true, report.SummaryCSV: true, "report.html": true,
	SlurmScript: true, SlurmDir: true,
	train.MetricsJSON: true, train.HistoryJSON: true, train.CheckpointFile: true, saving.ConfigFile: true, saving.WeightsFile: true,
}

// checkExperimentDir refuses a directory that holds no spec.json but
// what an experiment writes or a run's files (experimentWrites, and the
// experiment's figures); anything else (a spec file kept beside the
// results, a README, dotfiles) is left alone. A spec.json listed is one
// (or one the reading names), however it came there since: another
// command may be recording it.
func checkExperimentDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("experiment %s: %w", dir, oserr.Bare(err))
	}
	found := ""
	for _, e := range ents {
		n := e.Name()
		if n == SpecFile {
			// An experiment's, or a file of that name of someone else's
			// (its runs and report would go beside it).
			switch ok, err := isSpec(filepath.Join(dir, n)); {
			case err != nil:
				return fmt.Errorf("experiment %s: %s: %w", dir, SpecFile, oserr.Bare(err))
			case !ok:
				return &NotExperimentError{Dir: dir, File: SpecFile}
			}
			return nil
		}
		if found == "" && (experimentWrites[n] || isExperimentFigure(n)) {
			found = n
		}
	}
	if found != "" {
		return &NotExperimentError{Dir: dir, File: found}
	}
	return nil
}

// isSpec tells whether the file at path is an experiment's spec.json: one
// with seeds (Check would refuse the others).
func isSpec(path string) (bool, error) {
	b, err := regular.ReadFile(path, maxSpecJSON)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil // replaced since: another command's, being recorded
	}
	if err != nil {
		return false, err
	}
	var s Spec
	return json.Unmarshal(b, &s) == nil && len(s.Seeds) > 0, nil
}

// isExperimentFigure tells whether name is one of the figures an
// experiment's report writes (report.WriteExperiment).
func isExperimentFigure(name string) bool {
	ext := filepath.Ext(name)
	if ext != ".png" && ext != ".svg" {
		return false
	}
	base := strings.TrimSuffix(name, ext)
	switch {
	case base == "accuracy_box", base == "val_loss_curves", base == "val_accuracy_curves", strings.HasPrefix(base, "accuracy_vs_"):
		return true
	}
	return false
}
