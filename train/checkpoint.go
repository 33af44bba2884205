package train

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/internal/finitejson"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/regular"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/safetensors"

	"github.com/cifarnet/cifarnet/internal/quote"
)

// CheckpointFile is a run directory's checkpoint: one safetensors file,
// replaced atomically, holding every tensor (weights, the optimizer's
// variables by name, early stopping's best weights) and, in its metadata
// under checkpointKey, the scalars and small arrays as JSON. One file is
// one unit: its parts cannot come from two moments or two runs.
const CheckpointFile = "checkpoint.safetensors"

// legacyCheckpointJSON is the second file of the two-file checkpoints of
// earlier versions, refused with a clear message.
const legacyCheckpointJSON = "checkpoint.json"

const (
	checkpointKey    = "cifarnet_checkpoint"
	checkpointFormat = "cifarnet-checkpoint/2"
	// checksumKey is the metadata key of the CRC-32C of the tensor data
	// (safetensors.Checksum: the bytes after the header, in file order),
	// 8 hex digits. The JSON is checked field by field, the tensors
	// against this: a damaged checkpoint is refused either way.
	//
	// It was added within format 2, as the optional JSON fields were
	// (init_weights_sha256, layers_rng): a checkpoint without it, written
	// by an earlier version, is still read, its tensors unverified, and
	// an earlier version reads a new checkpoint (ignoring the key). The
	// format is bumped only when a reader could misread a file; the
	// checksum guards against damage, not edits (whoever can edit the
	// tensors can drop or recompute it), so a missing key is no reason to
	// refuse the checkpoints of runs interrupted before an upgrade.
	checksumKey = "tensor_data_crc32c"
)

// Checkpoint is the complete state of a Fit between two steps: resuming
// from it gives the same bits as never having stopped.
type Checkpoint struct {
	Config Config `json:"config"`
	// DataSHA256 identifies the samples the run trains on (Data.Checksum):
	// a resume on other data is refused.
	DataSHA256 string `json:"data_sha256"`
	// DataSource is where the data was read from (an absolute path): a
	// resume reads it from there unless told otherwise.
	DataSource string `json:"data_source,omitempty"`
	// InitWeightsSHA256 is the SHA-256 of the file of starting weights the
	// run began from (--init-weights), "" for the initializers: a run
	// started again continues this checkpoint only from the same weights.
	InitWeightsSHA256 string `json:"init_weights_sha256,omitempty"`
	// Epoch (0-based) and Step are the next step to run.
	Epoch int `json:"epoch"`
	Step  int `json:"step"`
	// The running sums of the epoch in progress.
	LossSum      float64 `json:"loss_sum"`
	Correct      int     `json:"correct"`
	Seen         int     `json:"seen"`
	EpochSeconds float64 `json:"epoch_seconds"`
	TrainSeconds float64 `json:"train_seconds"`

	History   *History       `json:"history"`
	Optimizer optim.State    `json:"optimizer"`
	Early     *EarlyState    `json:"early_stopping,omitempty"`
	ReduceLR  *ReduceLRState `json:"reduce_lr_on_plateau,omitempty"`
	// The sampler: its PCG state and this epoch's order of the samples.
	RNG   []byte `json:"rng"`
	Order []int  `json:"order"`
	// LayersRNG is the state of the random layers' stream (dropout masks,
	// noise): nn.Sequential.RandomState.
	LayersRNG []byte `json:"layers_rng,omitempty"`

	Weights [][]float32 `json:"-"`
	// EpochStart is the weights at the start of the epoch in progress, kept
	// for a stop by a non-finite loss (Options.KeepEpochStart); none at an
	// epoch's start.
	EpochStart [][]float32 `json:"-"`
}

// EarlyState is EarlyStopping's state.
type EarlyState struct {
	Wait         int `json:"wait"`
	StoppedEpoch int `json:"stopped_epoch"`
	BestEpoch    int `json:"best_epoch"`
	// Best is the best monitored value; null in JSON while there is none
	// (Keras's None: no epoch counted yet).
	Best        *float64    `json:"best"`
	BestWeights [][]float32 `json:"-"`
}

// State returns the callback's state for a checkpoint.
func (es *EarlyStopping) State() *EarlyState {
	s := &EarlyState{Wait: es.Wait, StoppedEpoch: es.StoppedEpoch, BestEpoch: es.BestEpoch, BestWeights: es.bestWeights}
	if es.HasBest {
		best := es.Best
		s.Best = &best
	}
	return s
}

// Restore sets the state of an EarlyStopping that Fit will resume (Fit does
// not call OnTrainBegin when resuming).
func (es *EarlyStopping) Restore(s *EarlyState) {
	es.OnTrainBegin(nil)
	es.Wait, es.StoppedEpoch, es.BestEpoch, es.bestWeights = s.Wait, s.StoppedEpoch, s.BestEpoch, s.BestWeights
	if s.Best != nil {
		es.Best, es.HasBest = *s.Best, true
	}
	if len(es.bestWeights) == 0 {
		es.bestWeights = nil
	}
}

// Save writes the checkpoint into dir, atomically, as one file.
func (c *Checkpoint) Save(dir string) error {
	var ts []safetensors.Tensor
	add := func(prefix string, ws [][]float32) {
		for i, w := range ws {
			ts = append(ts, safetensors.Tensor{Name: prefix + "/" + strconv.Itoa(i), Shape: []int{len(w)}, Data: w})
		}
	}
	add("weights", c.Weights)
	for _, sl := range c.Optimizer.Slots {
		ts = append(ts, safetensors.Tensor{Name: "optimizer/" + sl.Name, Shape: []int{len(sl.Data)}, Data: sl.Data})
	}
	if c.Early != nil {
		add("best_weights", c.Early.BestWeights)
	}
	add("epoch_start", c.EpochStart)
	js, err := finitejson.Marshal(c)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	err = atomicfile.Write(filepath.Join(dir, CheckpointFile), 0o644, func(f *os.File) error {
		return safetensors.Write(f, ts, map[string]string{"format": checkpointFormat, checkpointKey: string(js),
			checksumKey: fmt.Sprintf("%08x", safetensors.Checksum(ts))})
	})
	if err != nil {
		return err
	}
	os.Remove(filepath.Join(dir, legacyCheckpointJSON))
	return nil
}

// LoadCheckpoint reads the checkpoint in dir and checks every field
// against the run's configuration: a checkpoint that was edited or
// damaged is refused with the field named, never resumed from.
func LoadCheckpoint(dir string) (*Checkpoint, error) {
	name := filepath.Join(dir, CheckpointFile)
	f, size, err := regular.OpenLimit(name, maxCheckpoint)
	if err != nil {
		if _, lerr := os.Stat(filepath.Join(dir, legacyCheckpointJSON)); lerr == nil {
			return nil, fmt.Errorf("resume %s: the checkpoint is in the two-file format of an earlier version, which cannot be verified; train again", dir)
		}
		return nil, fmt.Errorf("resume %s: no checkpoint: %w", dir, oserr.Bare(err))
	}
	defer f.Close()
	st, err := safetensors.Read(f, size)
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", name, err)
	}
	if st.Metadata["format"] != checkpointFormat {
		return nil, fmt.Errorf("resume %s: format %s, want %q", name, quote.Short(st.Metadata["format"]), checkpointFormat)
	}
	if want, ok := st.Metadata[checksumKey]; ok { // absent: an earlier version's checkpoint
		if got := fmt.Sprintf("%08x", safetensors.Checksum(st.Tensors)); got != want {
			return nil, fmt.Errorf("resume %s: the tensor data is damaged (CRC-32C %s, the checkpoint's %s records %s)",
				name, got, checksumKey, quote.Short(want))
		}
	}
	c := &Checkpoint{}
	if err := json.Unmarshal([]byte(st.Metadata[checkpointKey]), c); err != nil {
		return nil, fmt.Errorf("resume %s: %s", name, quote.Line(err.Error(), 4*quote.Max))
	}
	// A number missing or null would be read as 0 without a word.
	var raw map[string]json.RawMessage
	json.Unmarshal([]byte(st.Metadata[checkpointKey]), &raw)
	for _, k := range []string{"epoch", "step", "loss_sum", "correct", "seen", "epoch_seconds", "train_seconds"} {
		if v, ok := raw[k]; !ok || string(v) == "null" {
			return nil, fmt.Errorf("resume %s: invalid checkpoint: %s is missing or null", name, k)
		}
	}
	get := func(prefix string) [][]float32 {
		var out [][]float32
		for i := 0; ; i++ {
			t, ok := st.Get(prefix + "/" + strconv.Itoa(i))
			if !ok {
				return out
			}
			out = append(out, t.Data)
		}
	}
	c.Weights = get("weights")
	for i := range c.Optimizer.Slots {
		sl := &c.Optimizer.Slots[i]
		t, ok := st.Get("optimizer/" + sl.Name)
		if !ok {
			return nil, fmt.Errorf("resume %s: no tensor optimizer/%s, which the checkpoint names", name, quote.Short(sl.Name))
		}
		sl.Data = t.Data
	}
	if c.Early != nil {
		c.Early.BestWeights = get("best_weights")
	}
	c.EpochStart = get("epoch_start")
	if c.History == nil {
		c.History = &History{}
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("resume %s: invalid checkpoint: %v", name, err)
	}
	return c, nil
}

// maxCheckpoint bounds a checkpoint file: a few copies of the largest
// model Validate lets through.
const maxCheckpoint = 64 << 30

// validate checks every field of a loaded checkpoint against its
// configuration, so that an edited one fails here, naming the field,
// rather than panicking or silently changing the run.
func (c *Checkpoint) validate() error {
	if err := c.Config.Validate(); err != nil {
		return fmt.Errorf("config: %v", err)
	}
	split := SplitAt(c.Config.TrainSamples, c.Config.ValidationSplit)
	bs := min(c.Config.BatchSize, split)
	steps := (split + bs - 1) / bs
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 }
	switch {
	case c.DataSHA256 != "" && len(c.DataSHA256) != 64:
		return fmt.Errorf("data_sha256 %s: want 64 hex digits", quote.Short(c.DataSHA256))
	case c.InitWeightsSHA256 != "" && len(c.InitWeightsSHA256) != 64:
		return fmt.Errorf("init_weights_sha256 %s: want 64 hex digits", quote.Short(c.InitWeightsSHA256))
	case c.Epoch < 0 || c.Epoch >= c.Config.Epochs:
		return fmt.Errorf("epoch %d: want 0 to %d (the run has %d epochs)", c.Epoch, c.Config.Epochs-1, c.Config.Epochs)
	case c.Step < 0 || c.Step >= steps:
		return fmt.Errorf("step %d: want 0 to %d (%d steps an epoch)", c.Step, steps-1, steps)
	case len(c.History.Epochs) != c.Epoch:
		return fmt.Errorf("history holds %d epochs, the checkpoint is at epoch %d", len(c.History.Epochs), c.Epoch)
	case c.Seen < 0 || c.Seen > split || c.Correct < 0 || c.Correct > c.Seen:
		return fmt.Errorf("seen %d, correct %d: want 0 <= correct <= seen <= %d", c.Seen, c.Correct, split)
	case !finite(c.LossSum) || !finite(c.EpochSeconds) || !finite(c.TrainSeconds):
		return fmt.Errorf("loss_sum %g, epoch_seconds %g, train_seconds %g: want finite numbers >= 0", c.LossSum, c.EpochSeconds, c.TrainSeconds)
	case len(c.Order) != split:
		return fmt.Errorf("order of %d samples, the run trains on %d", len(c.Order), split)
	}
	fraction := func(v float64) bool { return v >= 0 && v <= 1 }
	for i, e := range c.History.Epochs {
		if e.Epoch != i+1 || !e.HasVal || !finite(e.Loss) || !finite(e.ValLoss) || !fraction(e.Accuracy) || !fraction(e.ValAccuracy) ||
			!finite(e.Seconds) || e.HasLearningRate && !finite(e.LearningRate) {
			return fmt.Errorf("history epoch %d (entry %d): want epoch %d, finite losses >= 0, accuracies from 0 to 1, seconds >= 0", e.Epoch, i+1, i+1)
		}
	}
	seen := make([]bool, split)
	for i, v := range c.Order {
		if v < 0 || v >= split || seen[v] {
			return fmt.Errorf("order[%d] = %d: want each of 0 to %d once", i, v, split-1)
		}
		seen[v] = true
	}
	if err := (&rand.PCG{}).UnmarshalBinary(c.RNG); err != nil {
		return fmt.Errorf("rng: %v", err)
	}
	m, err := c.Config.NewModel()
	if err != nil {
		return fmt.Errorf("config: %v", err)
	}
	vars := m.Variables()
	shapeOK := func(ws [][]float32) error {
		if len(ws) != len(vars) {
			return fmt.Errorf("%d tensors, the model has %d variables", len(ws), len(vars))
		}
		for i, v := range vars {
			if len(ws[i]) != len(v.Value) {
				return fmt.Errorf("tensor %d (%s) has %d values, want %d", i, v.Name, len(ws[i]), len(v.Value))
			}
		}
		return nil
	}
	if err := shapeOK(c.Weights); err != nil {
		return fmt.Errorf("weights: %v", err)
	}
	if len(c.EpochStart) > 0 {
		if err := shapeOK(c.EpochStart); err != nil {
			return fmt.Errorf("epoch_start: %v", err)
		}
	}
	if e := c.Early; e != nil {
		if len(e.BestWeights) > 0 {
			if err := shapeOK(e.BestWeights); err != nil {
				return fmt.Errorf("best_weights: %v", err)
			}
		}
		if e.Wait < 0 || e.Wait > c.Epoch || e.BestEpoch < 0 || e.BestEpoch > max(c.Epoch-1, 0) || e.StoppedEpoch < 0 || e.StoppedEpoch > c.Epoch {
			return fmt.Errorf("early_stopping wait %d, best_epoch %d, stopped_epoch %d: out of range at epoch %d", e.Wait, e.BestEpoch, e.StoppedEpoch, c.Epoch)
		}
	}
	return nil
}

// samplerState captures a sampler for a checkpoint.
func (s *sampler) state() ([]byte, []int, error) {
	b, err := s.pcg.MarshalBinary()
	return b, append([]int(nil), s.order...), err
}

// restore sets a sampler back to a checkpoint's state.
func (s *sampler) restore(rng []byte, order []int) error {
	if len(order) != len(s.order) {
		return fmt.Errorf("train: checkpoint orders %d samples, the run has %d", len(order), len(s.order))
	}
	pcg := &rand.PCG{}
	if err := pcg.UnmarshalBinary(rng); err != nil {
		return fmt.Errorf("train: checkpoint random state: %v", err)
	}
	s.pcg, s.rng = pcg, rand.New(pcg)
	copy(s.order, order)
	return nil
}

// RemoveCheckpoint deletes a run directory's checkpoint (after the run
// finished).
func RemoveCheckpoint(dir string) {
	os.Remove(filepath.Join(dir, CheckpointFile))
	os.Remove(filepath.Join(dir, legacyCheckpointJSON))
}
