package experiment

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"path/filepath"
	"strconv"

	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/train"
)

// Files an experiment directory gets beside the runs.
const (
	ExperimentJSON = "experiment.json"
	RunsCSV        = "runs.csv"
)

// Summary is experiment.json: the spec, every run's summary and the
// statistics.
type Summary struct {
	Spec       *Spec                   `json:"spec"`
	Runs       []RunSummary            `json:"runs"`
	Statistics *report.ExperimentStats `json:"statistics"`
}

// RunSummary is one run's line of experiment.json and runs.csv.
type RunSummary struct {
	Config  string          `json:"config"`
	Factors []report.Factor `json:"factors"`
	Seed    uint64          `json:"seed"`
	Dir     string          `json:"dir"` // relative to the experiment directory
	// Status is "finished", "diverged" (finished, its training stopped by
	// a non-finite loss or its results not finite: report.Diverged),
	// "unreadable", "interrupted" or "not started".
	Status string `json:"status"`
	// The results of a finished run (null otherwise, or when not finite).
	TestAccuracy *float64 `json:"test_accuracy"`
	TestLoss     *float64 `json:"test_loss"`
	EpochsRun    int      `json:"epochs_run"`
	BestEpoch    int      `json:"best_epoch"`
	TrainSeconds float64  `json:"train_seconds"`
}

// Write computes the statistics of the runs in dir and writes
// experiment.json, runs.csv and (report.WriteExperiment) summary.csv, the
// figures and report.html. A run without results is named as missing.
func Write(dir string, s *Spec, runs []Run) (*Summary, error) {
	e := report.Experiment{Dir: dir, Baseline: s.Baseline, NamedSeed: s.NamedSeed, Base: settingsWords(s.Base)}
	for _, c := range s.Configs {
		e.Named = append(e.Named, report.NamedSettings{Name: c.Name, Settings: settingsWords(c.Settings)})
	}
	sum := &Summary{Spec: s}
	for _, r := range runs {
		er := reportRun(r)
		rel, err := filepath.Rel(dir, r.Dir)
		if err != nil {
			rel = r.Dir
		}
		rs := RunSummary{Config: r.Label, Factors: r.Factors, Seed: r.Seed, Dir: rel, Status: Status(r)}
		if rs.Status == "finished" {
			h, m, err := train.ReadRun(r.Dir)
			if err == nil && m.Seed != r.Seed {
				err = fmt.Errorf("run %s: %s is of seed %d, not %d", r.Dir, train.MetricsJSON, m.Seed, r.Seed)
			}
			if err != nil {
				// Named missing with the reason; the other runs' statistics
				// are still written.
				er.Problem, rs.Status = report.RunProblem(err), "unreadable"
				e.Runs = append(e.Runs, er)
				sum.Runs = append(sum.Runs, rs)
				continue
			}
			er.History, er.Metrics = h, m
			rs.TestAccuracy, rs.TestLoss = finite(m.TestAccuracy), finite(m.TestLoss)
			if _, diverged := report.Diverged(*m); diverged {
				// Its figures are those of NaN weights: none, as in the
				// statistics.
				rs.Status, rs.TestAccuracy, rs.TestLoss = "diverged", nil, nil
			}
			rs.EpochsRun, rs.BestEpoch, rs.TrainSeconds = m.EpochsRun, m.BestEpoch, m.TrainSeconds
		}
		e.Runs = append(e.Runs, er)
		sum.Runs = append(sum.Runs, rs)
	}
	st, err := report.WriteExperiment(e)
	if err != nil {
		return nil, err
	}
	sum.Statistics = st
	if err := atomicfile.WriteFile(filepath.Join(dir, RunsCSV), runsCSV(sum), 0o644); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteJSON(filepath.Join(dir, ExperimentJSON), sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// reportRun is the report's view of a run, before its files are read.
func reportRun(r Run) report.ExperimentRun {
	return report.ExperimentRun{Dir: r.Dir, Config: r.Label, Factors: r.Factors, Seed: r.Seed}
}

// PlaceRuns redraws the report of every finished run in dir so that its
// reading says where the run falls among the experiment's others
// (report.PlaceRuns). It redraws every figure of every run, so it is the
// "experiment report" command's work, not each experiment's.
func PlaceRuns(dir string, runs []Run) error {
	e := report.Experiment{Dir: dir}
	for _, r := range runs {
		e.Runs = append(e.Runs, reportRun(r))
	}
	return report.PlaceRuns(e)
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// runsCSV is a row per run: its configuration, factors, seed, status and
// results.
func runsCSV(s *Summary) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := []string{"config"}
	if len(s.Runs) > 0 {
		for _, f := range s.Runs[0].Factors {
			head = append(head, f.Name)
		}
	}
	head = append(head, "seed", "status", "test_accuracy", "test_loss", "epochs_run", "best_epoch", "train_seconds", "dir")
	w.Write(head)
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'g', -1, 64)
	}
	for _, r := range s.Runs {
		row := []string{r.Config}
		for _, f := range r.Factors {
			row = append(row, f.Value)
		}
		row = append(row, strconv.FormatUint(r.Seed, 10), r.Status, num(r.TestAccuracy), num(r.TestLoss))
		if r.Status == "finished" || r.Status == "diverged" {
			row = append(row, strconv.Itoa(r.EpochsRun), strconv.Itoa(r.BestEpoch), fmt.Sprintf("%.3f", r.TrainSeconds))
		} else {
			row = append(row, "", "", "")
		}
		w.Write(append(row, r.Dir))
	}
	w.Flush()
	return b.Bytes()
}
