package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strconv"

	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/internal/finitejson"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/regular"

	"github.com/cifarnet/cifarnet/internal/quote"
)

// Names of the files a run directory holds.
const (
	HistoryJSON = "history.json"
	HistoryCSV  = "history.csv"
	MetricsJSON = "metrics.json"
)

// maxRunFile bounds a run's JSON files when they are read back: the
// largest, metrics.json of 10,000 test predictions or a checkpoint's
// sample order of 50,000 indices, is a few megabytes.
const maxRunFile = 64 << 20

// Metrics is metrics.json: the run's results and everything needed to
// reproduce it.
type Metrics struct {
	TestAccuracy float64 `json:"test_accuracy"`
	TestLoss     float64 `json:"test_loss"`
	EpochsRun    int     `json:"epochs_run"`
	// BestEpoch is the 1-based epoch whose weights the model ends with.
	BestEpoch    int     `json:"best_epoch"`
	BestValLoss  float64 `json:"best_val_loss"`
	StoppedEarly bool    `json:"stopped_early"`
	// Terminated says why training stopped abnormally (a NaN loss), if it did.
	Terminated   string  `json:"terminated,omitempty"`
	Seed         uint64  `json:"seed"`
	TrainSeconds float64 `json:"train_seconds"`
	Config       Config  `json:"config"`
	// TestPredictions holds the predicted class of every test sample, for
	// the confusion matrix and per-class figures.
	TestPredictions []int32 `json:"test_predictions,omitempty"`
	TestLabels      []int32 `json:"test_labels,omitempty"`
	// TestConfidence holds the softmax probability of every test
	// prediction, for the calibration figure (absent in older runs).
	TestConfidence []float32 `json:"test_confidence,omitempty"`
	Env            Env       `json:"env"`
}

// Env records where a run happened.
type Env struct {
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPU       string `json:"cpu"`
	Threads   int    `json:"threads"`
	// ThreadsRaisedTo is the number of threads the run ended on when
	// larger than Threads (else 0, left out): an experiment gives its last
	// runs the CPUs of the runs that have finished (never a result, only
	// its speed). Outcome.ThreadsAtEnd is the count in every case.
	ThreadsRaisedTo int    `json:"threads_raised_to,omitempty"`
	Kernel          string `json:"kernel"`
	Data            string `json:"data"`
	DataSHA256      string `json:"data_sha256,omitempty"`
	// DataNotOfficial names the data files (base names) whose SHA-256 is
	// not the official files': the run is not comparable with published
	// results (dataset.Data.NotOfficial).
	DataNotOfficial []string `json:"data_not_official,omitempty"`
	Start           string   `json:"start"`
}

// MetricsOf summarises an outcome; env is filled by the caller.
func MetricsOf(o *Outcome, testLabels []int32, env Env) Metrics {
	m := Metrics{
		TestAccuracy: o.Test.Accuracy, TestLoss: o.Test.Loss,
		EpochsRun: o.EpochsRun(), BestEpoch: o.BestEpoch(), BestValLoss: o.BestValLoss(),
		StoppedEarly: o.Early != nil && o.Early.StoppedEpoch > 0,
		Seed:         o.Config.Seed, TrainSeconds: o.TrainSeconds, Config: o.Config,
		TestPredictions: o.Test.Predicted, TestLabels: testLabels, TestConfidence: allFinite32(o.Test.Confidence), Env: env,
	}
	if o.Terminated != nil {
		m.Terminated = o.Terminated.Error()
	}
	return m
}

// allFinite32 returns v, or nil if any value is NaN or infinite (a model
// broken by a NaN loss has no calibration to show, and JSON cannot hold NaN).
func allFinite32(v []float32) []float32 {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil
		}
	}
	return v
}

// WriteRun writes history.json, history.csv and metrics.json into dir,
// each atomically.
func WriteRun(dir string, h *History, m Metrics) error {
	if err := WriteHistory(dir, h); err != nil {
		return err
	}
	return atomicfile.WriteJSON(filepath.Join(dir, MetricsJSON), m)
}

// WriteHistory writes history.json and history.csv into dir, atomically
// (also the partial history of an interrupted run).
func WriteHistory(dir string, h *History) error {
	if err := atomicfile.WriteJSON(filepath.Join(dir, HistoryJSON), h); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, HistoryCSV), historyCSV(h), 0o644)
}

func historyCSV(h *History) []byte {
	var b bytes.Buffer
	// learning_rate is a column only when logged (a schedule or a callback
	// changed it).
	withLR := false
	for _, e := range h.Epochs {
		withLR = withLR || e.HasLearningRate
	}
	if withLR {
		b.WriteString("epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds\n")
	} else {
		b.WriteString("epoch,loss,accuracy,val_loss,val_accuracy,seconds\n")
	}
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for _, e := range h.Epochs {
		fmt.Fprintf(&b, "%d,%s,%s,%s,%s,", e.Epoch, f(e.Loss), f(e.Accuracy), f(e.ValLoss), f(e.ValAccuracy))
		if withLR {
			lr := math.NaN()
			if e.HasLearningRate {
				lr = e.LearningRate
			}
			fmt.Fprintf(&b, "%s,", f(lr))
		}
		fmt.Fprintf(&b, "%s\n", f(e.Seconds))
	}
	return b.Bytes()
}

// ReadRun reads history.json and metrics.json back from a run directory.
func ReadRun(dir string) (*History, *Metrics, error) {
	var h History
	if err := readRunFile(dir, HistoryJSON, &h); err != nil {
		return nil, nil, err
	}
	m, err := ReadMetrics(dir)
	if err != nil {
		return nil, nil, err
	}
	return &h, m, nil
}

// ReadMetrics reads a finished run's metrics.json alone (what evaluate
// and an experiment's checks need of it), as ReadRun does.
func ReadMetrics(dir string) (*Metrics, error) {
	var m Metrics
	if err := readRunFile(dir, MetricsJSON, &m); err != nil {
		return nil, err
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("run %s: %s: %v", dir, MetricsJSON, err)
	}
	return &m, nil
}

// readRunFile decodes the run file name of dir into v.
func readRunFile(dir, name string, v any) error {
	b, err := regular.ReadFile(filepath.Join(dir, name), maxRunFile)
	if err != nil {
		return fmt.Errorf("run %s: %s: %w", dir, name, oserr.Bare(err))
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("run %s: %s: %s", dir, name, quote.Line(err.Error(), 4*quote.Max))
	}
	return nil
}

// check refuses figures no run can have (an edited or foreign file): an
// accuracy outside [0, 1], a negative loss or time, an epoch count past
// MaxEpochs, a best epoch past the epochs run. A figure JSON could not
// hold (NaN) is null, read as NaN, and allowed.
func (m *Metrics) check() error {
	for _, f := range []struct {
		name      string
		v, lo, hi float64
	}{
		{"test_accuracy", m.TestAccuracy, 0, 1},
		{"test_loss", m.TestLoss, 0, math.MaxFloat64},
		{"best_val_loss", m.BestValLoss, 0, math.MaxFloat64},
		{"train_seconds", m.TrainSeconds, 0, math.MaxFloat64},
	} {
		if !math.IsNaN(f.v) && !(f.v >= f.lo && f.v <= f.hi) {
			return fmt.Errorf("%s %g: want a number from %g to %g", f.name, f.v, f.lo, f.hi)
		}
	}
	if m.EpochsRun < 0 || m.EpochsRun > MaxEpochs {
		return fmt.Errorf("epochs_run %d: want 0 to %d", m.EpochsRun, MaxEpochs)
	}
	if m.BestEpoch < 0 || m.BestEpoch > m.EpochsRun {
		return fmt.Errorf("best_epoch %d: want 0 to epochs_run (%d)", m.BestEpoch, m.EpochsRun)
	}
	return nil
}

// metricsAlias has Metrics' fields without its methods.
type metricsAlias Metrics

// MarshalJSON writes non-finite figures (a run stopped by a NaN loss) as
// null, which JSON can hold.
func (m Metrics) MarshalJSON() ([]byte, error) {
	type wire struct {
		metricsAlias
		TestAccuracy *float64 `json:"test_accuracy"`
		TestLoss     *float64 `json:"test_loss"`
		BestValLoss  *float64 `json:"best_val_loss"`
	}
	return finitejson.Marshal(wire{metricsAlias(m), finite(m.TestAccuracy), finite(m.TestLoss), finite(m.BestValLoss)})
}

// UnmarshalJSON reads null figures as NaN.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var w struct {
		metricsAlias
		TestAccuracy *float64 `json:"test_accuracy"`
		TestLoss     *float64 `json:"test_loss"`
		BestValLoss  *float64 `json:"best_val_loss"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Metrics(w.metricsAlias)
	m.TestAccuracy, m.TestLoss, m.BestValLoss = orNaN(w.TestAccuracy), orNaN(w.TestLoss), orNaN(w.BestValLoss)
	return nil
}
