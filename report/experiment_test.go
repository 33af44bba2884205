package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/stats"
	"github.com/cifarnet/cifarnet/train"
)

// syntheticExperiment writes made-up runs: two learning rates (0.001 as
// the baseline, 0.01) x an activation, 6 seeds each; the 0.01 runs are
// better by about 0.05. Seed 5 of "lr=0.01 elu" never finished and seed 4
// of "lr=0.001 relu" diverged.
func syntheticExperiment(t *testing.T) Experiment {
	t.Helper()
	dir := t.TempDir()
	e := Experiment{Dir: dir, NamedSeed: 2}
	for _, c := range []struct {
		lr, act string
		base    float64
	}{{"0.001", "elu", 0.35}, {"0.01", "elu", 0.40}, {"0.001", "relu", 0.34}, {"0.01", "relu", 0.39}} {
		label := "lr=" + c.lr + " " + c.act
		for seed := range uint64(6) {
			run := ExperimentRun{
				Dir: filepath.Join(dir, "runs", fmt.Sprintf("%s-%s-%d", c.lr, c.act, seed)), Config: label, Seed: seed,
				Factors: []Factor{{"learning_rate", c.lr}, {"activation", c.act}},
			}
			e.Runs = append(e.Runs, run)
			if label == "lr=0.01 elu" && seed == 5 {
				continue
			}
			acc := c.base + 0.01*float64((seed*7)%5) - 0.02
			if label == "lr=0.001 relu" && seed == 4 {
				acc = math.NaN()
			}
			epochs := 5 + int(seed%3)
			h := &train.History{}
			for ep := 1; ep <= epochs; ep++ {
				h.Epochs = append(h.Epochs, train.Epoch{Epoch: ep, Logs: train.Logs{
					Loss: 2 - 0.1*float64(ep), Accuracy: 0.2 + 0.03*float64(ep),
					ValLoss: 2.1 - 0.08*float64(ep) + 0.01*float64(seed), ValAccuracy: acc - 0.1 + 0.02*float64(ep), HasVal: true}})
			}
			m := train.Metrics{TestAccuracy: acc, TestLoss: 1.8 - acc, EpochsRun: epochs, BestEpoch: epochs, Seed: seed, Config: train.Exercise()}
			if math.IsNaN(acc) {
				m.TestLoss, m.Terminated = math.NaN(), "loss became NaN at epoch 3"
			}
			if err := os.MkdirAll(run.Dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := train.WriteRun(run.Dir, h, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	return e
}

func TestExperimentStatistics(t *testing.T) {
	e := syntheticExperiment(t)
	st, err := WriteExperiment(e)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Configurations) != 4 || st.Baseline != "lr=0.001 elu" || len(st.Comparisons) != 3 {
		t.Fatalf("%d configurations, baseline %q, %d comparisons", len(st.Configurations), st.Baseline, len(st.Comparisons))
	}
	if len(st.Missing) != 1 || st.Missing[0].Config != "lr=0.01 elu" || st.Missing[0].Seed != 5 {
		t.Errorf("missing: %+v", st.Missing)
	}
	if len(st.Diverged) != 1 || st.Diverged[0].Seed != 4 || !strings.Contains(st.Diverged[0].Reason, "NaN") {
		t.Errorf("diverged: %+v", st.Diverged)
	}
	// The figures are the stats package's, on the runs' own numbers.
	var base []float64
	for _, r := range e.Runs[:6] {
		_, m, err := train.ReadRun(r.Dir)
		if err != nil {
			t.Fatal(err)
		}
		base = append(base, m.TestAccuracy)
	}
	want := stats.Describe(base, stats.DefaultBootstrap)
	if got := st.Configurations[0].TestAccuracy; got != want {
		t.Errorf("baseline summary %+v, want %+v", got, want)
	}
	c1, c2 := st.Configurations[1], st.Configurations[2]
	if c1.Runs != 6 || c1.Finished != 5 || c1.TestAccuracy.N != 5 {
		t.Errorf("lr=0.01 elu: %d runs, %d finished, n = %d", c1.Runs, c1.Finished, c1.TestAccuracy.N)
	}
	if c2.Finished != 6 || c2.TestAccuracy.N != 5 || c2.TestAccuracy.Missing != 1 {
		t.Errorf("lr=0.001 relu: %d finished, n = %d, missing %d", c2.Finished, c2.TestAccuracy.N, c2.TestAccuracy.Missing)
	}
	if st.Configurations[0].Named == nil || st.Configurations[0].Named.Value != base[2] {
		t.Errorf("seed 2's position: %+v", st.Configurations[0].Named)
	}
	if st.Comparisons[0].Name != "lr=0.01 elu" || !(st.Comparisons[0].Diff > 0.04) {
		t.Errorf("comparison: %+v", st.Comparisons[0])
	}
	if _, err := json.Marshal(st); err != nil {
		t.Errorf("statistics to JSON: %v", err)
	}

	// summary.csv: a header and a row per configuration, factors as columns,
	// an empty comparison for the baseline.
	f, err := os.Open(filepath.Join(e.Dir, SummaryCSV))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows in summary.csv, want 5", len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if rows[1][col["learning_rate"]] != "0.001" || rows[3][col["activation"]] != "relu" {
		t.Errorf("factor columns: %v", rows[1:])
	}
	if mean, _ := strconv.ParseFloat(rows[1][col["test_accuracy_mean"]], 64); mean != want.Mean {
		t.Errorf("baseline mean in summary.csv %v, want %v", mean, want.Mean)
	}
	if rows[1][col["welch_p"]] != "" || rows[2][col["welch_p"]] == "" {
		t.Errorf("welch_p: baseline %q, other %q", rows[1][col["welch_p"]], rows[2][col["welch_p"]])
	}
	if rows[3][col["test_accuracy_missing"]] != "1" {
		t.Errorf("diverged run not counted: %q", rows[3][col["test_accuracy_missing"]])
	}
}

func TestExperimentBadInput(t *testing.T) {
	if _, err := WriteExperiment(Experiment{Dir: t.TempDir()}); err == nil {
		t.Error("no runs: no error")
	}
	e := syntheticExperiment(t)
	e.Baseline = "lr=1"
	if _, err := WriteExperiment(e); err == nil || !strings.Contains(err.Error(), `baseline "lr=1"`) {
		t.Errorf("unknown baseline: %v", err)
	}
	e = syntheticExperiment(t)
	if err := os.WriteFile(filepath.Join(e.Runs[0].Dir, train.MetricsJSON), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteExperiment(e); err == nil || !strings.Contains(err.Error(), train.MetricsJSON) {
		t.Errorf("corrupt metrics.json: %v", err)
	}
}
