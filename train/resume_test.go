package train

import (
	"errors"
	"math"
	"testing"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/tensor"
)

func sameWeights(t *testing.T, a, b *nn.Sequential) {
	t.Helper()
	pa, pb := a.Variables(), b.Variables() // moving statistics too
	for i := range pa {
		for j := range pa[i].Value {
			if math.Float32bits(pa[i].Value[j]) != math.Float32bits(pb[i].Value[j]) {
				t.Fatalf("%s[%d]: %g vs %g", pa[i].Name, j, pa[i].Value[j], pb[i].Value[j])
			}
		}
	}
}

// TestInterruptResumeBitIdentical stops a run after a number of steps
// (several times), saves the checkpoint to disk, resumes from the file, and
// compares everything with a run that was never interrupted.
func TestInterruptResumeBitIdentical(t *testing.T) {
	data := realData(t, 600, 200)
	for _, layers := range []string{"", "normalization, dense(32, relu, kernel_regularizer=l2(0.001)), batchnorm, dropout(0.3), dense(16, selu, lecun_normal), alpha_dropout(0.1), gaussian_noise(0.1), gaussian_dropout(0.1)"} {
		t.Run(map[bool]string{true: "exercise", false: "every layer"}[layers == ""], func(t *testing.T) {
			testInterruptResume(t, data, layers)
		})
	}
}

// withLayers sets cfg's model to the short-form layers and a softmax output.
func withLayers(t testing.TB, cfg *Config, layers string) {
	t.Helper()
	names := map[string]int{}
	cs, err := nn.ParseLayers(layers, names)
	if err != nil {
		t.Fatal(err)
	}
	cs = append(cs, nn.LayerConfig{ClassName: "Dense", Config: map[string]any{"name": nn.AutoName("Dense", names), "units": 10, "activation": "softmax"}})
	cfg.Model = &nn.ModelConfig{Name: "sequential", InputShape: []int{3072}, Layers: cs}
}

func testInterruptResume(t *testing.T, data *dataset.Data, layers string) {
	cfg := smallConfig()
	cfg.Epochs, cfg.Patience = 4, 1 // early stopping state matters too
	if layers != "" {
		withLayers(t, &cfg, layers)
	}
	want, err := FitAndEvaluate(cfg, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 480 training samples in batches of 128: 4 steps an epoch. Stop at a
	// step inside epoch 1, at the start of epoch 2 (step 0), and inside epoch 3.
	for _, stops := range [][]int{{2}, {4}, {2, 5, 11}} {
		model, _ := cfg.NewModel()
		model.Initialize(cfg.Seed)
		var out *Outcome
		calls := 0
		interrupt := func() bool {
			calls++
			for _, s := range stops {
				if calls == s+1 {
					return true
				}
			}
			return false
		}
		out, err = FitAndEvaluateFrom(cfg, data, model, nil, interrupt)
		for range stops {
			var intr *Interrupted
			if !errors.As(err, &intr) {
				break
			}
			dir := t.TempDir()
			if err := intr.Checkpoint.Save(dir); err != nil {
				t.Fatal(err)
			}
			ck, err2 := LoadCheckpoint(dir)
			if err2 != nil {
				t.Fatal(err2)
			}
			out, err = Resume(ck, data, nil, interrupt)
		}
		if err != nil {
			t.Fatalf("stops %v: %v", stops, err)
		}
		sameWeights(t, want.Model, out.Model)
		if len(out.History.Epochs) != len(want.History.Epochs) {
			t.Fatalf("stops %v: %d epochs, want %d", stops, len(out.History.Epochs), len(want.History.Epochs))
		}
		for i := range want.History.Epochs {
			if out.History.Epochs[i].Logs != want.History.Epochs[i].Logs {
				t.Fatalf("stops %v: epoch %d logs differ: %+v vs %+v", stops, i+1, out.History.Epochs[i].Logs, want.History.Epochs[i].Logs)
			}
		}
		if out.Test.Loss != want.Test.Loss || out.BestEpoch() != want.BestEpoch() {
			t.Fatalf("stops %v: test loss %v best %d, want %v %d", stops, out.Test.Loss, out.BestEpoch(), want.Test.Loss, want.BestEpoch())
		}
	}
}

// poison writes NaN into the training inputs after a given epoch.
type poison struct {
	NopCallback
	x       []float32
	after   int
	weights [][][]float32 // the weights at each epoch's end
	valLoss []float64
}

func (p *poison) OnEpochEnd(r *FitState, epoch int, l Logs) {
	p.weights = append(p.weights, r.Model.Weights())
	p.valLoss = append(p.valLoss, l.ValLoss)
	if epoch+1 == p.after {
		for i := range p.x {
			p.x[i] = float32(math.NaN())
		}
	}
}

func TestNaNStopsAndRestoresBest(t *testing.T) {
	const n, features, classes = 200, 6, 3
	x, y := tinyProblem(n, features, classes)
	m, _ := nn.New(nn.Architecture{Inputs: features, Hidden: []int{8}, Activation: "elu", Init: "he_normal", Classes: classes}, 2)
	e := tensor.NewEngine(1)
	defer e.Close()
	es := &EarlyStopping{Patience: 10, RestoreBestWeights: true}
	p := &poison{x: x, after: 3}
	h, err := Fit(e, m, optim.NewNadam(0.01), Float32Rows{x, features}, y, Options{Epochs: 10, BatchSize: 32, ValidationSplit: 0.2, Shuffle: true, Seed: 1, Callbacks: []Callback{p, es}})
	var nf *NonFinite
	if !errors.As(err, &nf) || nf.Epoch != 4 || nf.Step != 1 || !math.IsNaN(float64(nf.Loss)) {
		t.Fatalf("error %v, want NaN at epoch 4, step 1", err)
	}
	if len(h.Epochs) != 3 {
		t.Fatalf("history has %d epochs, want the 3 finished ones", len(h.Epochs))
	}
	best := 0
	for i, v := range p.valLoss {
		if v < p.valLoss[best] {
			best = i
		}
	}
	got := m.Weights()
	for i := range got {
		for j := range got[i] {
			if got[i][j] != p.weights[best][i][j] {
				t.Fatalf("weights are not those of the best epoch %d", best+1)
			}
		}
	}
}

// poisonMid writes NaN into the training inputs after step 2 of epoch 4,
// so that a later step of that epoch stops training, its earlier steps
// applied.
type poisonMid struct {
	NopCallback
	x       []float32
	epoch   int
	weights [][][]float32 // the weights at each epoch's end
}

func (p *poisonMid) OnEpochBegin(r *FitState, epoch int) { p.epoch = epoch }

func (p *poisonMid) OnBatchEnd(r *FitState, step int, _ Logs) {
	if p.epoch == 3 && step == 1 {
		for i := range p.x {
			p.x[i] = float32(math.NaN())
		}
	}
}

func (p *poisonMid) OnEpochEnd(r *FitState, epoch int, _ Logs) {
	p.weights = append(p.weights, r.Model.Weights())
}

// TestNaNStopKeepsTheLastEpoch: without early stopping's restoring, a stop
// by a non-finite loss in the middle of epoch 4 leaves the model with epoch
// 3's weights (KeepEpochStart), the run's last complete epoch, which its
// metrics name (they held the weights of epoch 4's first steps, which
// overflow in a diverging run); also when the run was interrupted in epoch
// 4 before the failing step and resumed (the checkpoint keeps epoch 4's
// starting weights).
func TestNaNStopKeepsTheLastEpoch(t *testing.T) {
	const n, features, classes = 200, 6, 3
	for _, interrupted := range []bool{false, true} {
		x, y := tinyProblem(n, features, classes)
		m, _ := nn.New(nn.Architecture{Inputs: features, Hidden: []int{8}, Activation: "elu", Init: "he_normal", Classes: classes}, 2)
		e := tensor.NewEngine(1)
		p := &poisonMid{x: x}
		opts := Options{Epochs: 10, BatchSize: 32, ValidationSplit: 0.2, Shuffle: true, Seed: 1, Callbacks: []Callback{p}, KeepEpochStart: true}
		if interrupted {
			steps := 0
			opts.Interrupt = func() bool { steps++; return steps == 3*5+2 } // epoch 4, after its first step
		}
		_, err := Fit(e, m, optim.NewNadam(0.01), Float32Rows{x, features}, y, opts)
		var intr *Interrupted
		if errors.As(err, &intr) {
			if intr.Checkpoint.Epoch != 3 || intr.Checkpoint.Step != 1 || intr.Checkpoint.EpochStart == nil {
				t.Fatalf("interrupted at epoch %d step %d (epoch start kept: %v), want 4, 2 with it", intr.Checkpoint.Epoch+1, intr.Checkpoint.Step+1, intr.Checkpoint.EpochStart != nil)
			}
			opts.Resume, opts.Interrupt = intr.Checkpoint, nil
			_, err = Fit(e, m, optim.NewNadam(0.01), Float32Rows{x, features}, y, opts)
		}
		e.Close()
		var nf *NonFinite
		if !errors.As(err, &nf) || nf.Epoch != 4 || nf.Step != 3 {
			t.Fatalf("interrupted %v: error %v, want a NaN at epoch 4, step 3", interrupted, err)
		}
		if !interrupted {
			sameWeightsAs(t, m.Weights(), p.weights[2])
		} else if got := m.Weights(); !equalWeights(got, p.weights[len(p.weights)-1]) {
			t.Errorf("resumed: the weights are not epoch 3's")
		}
	}
}

func equalWeights(a, b [][]float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
				return false
			}
		}
	}
	return true
}

func sameWeightsAs(t *testing.T, got, want [][]float32) {
	t.Helper()
	if !equalWeights(got, want) {
		t.Errorf("the weights are not the last complete epoch's")
	}
}

// TestNaNStopBeforeEarlyStoppingWatches: with early stopping restoring its
// best weights but told to start watching at epoch 9, a stop in epoch 4
// finds nothing to restore there: the run keeps epoch 3's weights all the
// same (it kept the failing epoch's first steps'), through FitAndEvaluate's
// own options.
func TestNaNStopBeforeEarlyStoppingWatches(t *testing.T) {
	cfg := Exercise()
	cfg.Hidden, cfg.TrainSamples, cfg.TestSamples, cfg.Epochs, cfg.Threads = []int{16}, 400, 100, 8, 1
	cfg.StartFromEpoch = 8
	cfg.LRSchedule = &optim.ScheduleConfig{ClassName: "ExponentialDecay", Config: optim.Args{"decay_steps": 3.0, "decay_rate": 1e20, "staircase": true}}
	info, _ := cfg.Info()
	data := SyntheticData(info, cfg.TrainSamples, cfg.TestSamples, 1)
	out, err := FitAndEvaluate(cfg, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Terminated == nil || out.EpochsRun() < 1 || out.Early.Restores() {
		t.Fatalf("not the case meant: terminated %v after %d epochs, restores %v", out.Terminated, out.EpochsRun(), out.Early.Restores())
	}
	short := cfg
	short.Epochs, short.Patience = out.EpochsRun(), -1
	want, err := FitAndEvaluate(short, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameWeights(t, want.Model, out.Model)
}
