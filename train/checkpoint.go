package train

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/regular"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/safetensors"

	"github.com/cifarnet/cifarnet/internal/quote"
)

// Checkpoint files in a run directory: the scalars and small arrays as
// JSON, every tensor (weights, the optimizer's variables by name, early
// stopping's best weights) as safetensors.
const (
	CheckpointJSON    = "checkpoint.json"
	CheckpointTensors = "checkpoint.safetensors"
)

// Checkpoint is the complete state of a Fit between two steps: resuming
// from it gives the same bits as never having stopped.
type Checkpoint struct {
	Config Config `json:"config"`
	// DataSHA256 identifies the samples the run trains on (Data.Checksum):
	// a resume on other data is refused.
	DataSHA256 string `json:"data_sha256"`
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

// Save writes the checkpoint into dir, atomically.
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
	err := atomicfile.Write(filepath.Join(dir, CheckpointTensors), 0o644, func(f *os.File) error {
		return safetensors.Write(f, ts, map[string]string{"format": "cifarnet-checkpoint"})
	})
	if err != nil {
		return err
	}
	return atomicfile.WriteJSON(filepath.Join(dir, CheckpointJSON), c)
}

// LoadCheckpoint reads the checkpoint in dir.
func LoadCheckpoint(dir string) (*Checkpoint, error) {
	name := filepath.Join(dir, CheckpointJSON)
	b, err := regular.ReadFile(name, maxRunFile)
	if err != nil {
		return nil, fmt.Errorf("resume %s: no checkpoint: %w", dir, oserr.Bare(err))
	}
	c := &Checkpoint{}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("resume %s: %s", name, quote.Line(err.Error(), 4*quote.Max))
	}
	tname := filepath.Join(dir, CheckpointTensors)
	f, err := regular.Open(tname)
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", tname, oserr.Bare(err))
	}
	defer f.Close()
	fi, _ := f.Stat()
	st, err := safetensors.Read(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", tname, err)
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
			return nil, fmt.Errorf("resume %s: no tensor optimizer/%s, which %s names", tname, sl.Name, name)
		}
		sl.Data = t.Data
	}
	if c.Early != nil {
		c.Early.BestWeights = get("best_weights")
	}
	if c.History == nil {
		c.History = &History{}
	}
	return c, nil
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

// Remove deletes a run directory's checkpoint files (after the run finished).
func RemoveCheckpoint(dir string) {
	os.Remove(filepath.Join(dir, CheckpointJSON))
	os.Remove(filepath.Join(dir, CheckpointTensors))
}
