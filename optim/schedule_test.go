package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSchedulesAtChosenSteps: values worked by hand from each Keras
// schedule's closed form, at the edges (staircase steps, boundaries, the
// end of a decay, a cycle's restart, the warmup's end).
func TestSchedulesAtChosenSteps(t *testing.T) {
	cos := func(x float64) float64 { return math.Cos(math.Pi * x) }
	for _, c := range []struct {
		name string
		s    Schedule
		at   map[int64]float64
	}{
		{"exponential", ExponentialDecay{0.1, 10, 0.5, false}, map[int64]float64{0: 0.1, 5: 0.1 * math.Sqrt(0.5), 10: 0.05, 30: 0.0125}},
		{"exponential staircase", ExponentialDecay{0.1, 10, 0.5, true}, map[int64]float64{0: 0.1, 9: 0.1, 10: 0.05, 19: 0.05, 20: 0.025}},
		{"piecewise", PiecewiseConstantDecay{[]float64{10, 20}, []float64{1, 0.5, 0.1}}, map[int64]float64{0: 1, 10: 1, 11: 0.5, 20: 0.5, 21: 0.1, 1e6: 0.1}},
		{"polynomial", PolynomialDecay{0.1, 10, 0.01, 2, false}, map[int64]float64{0: 0.1, 5: 0.09*0.25 + 0.01, 10: 0.01, 15: 0.01}},
		{"polynomial cycle", PolynomialDecay{0.1, 10, 0.01, 2, true}, map[int64]float64{0: 0.1, 10: 0.01, 11: 0.09*(0.45*0.45) + 0.01, 15: 0.09*0.0625 + 0.01, 20: 0.01}},
		{"inverse time", InverseTimeDecay{0.1, 10, 1, false}, map[int64]float64{0: 0.1, 5: 0.1 / 1.5, 15: 0.1 / 2.5}},
		{"inverse time staircase", InverseTimeDecay{0.1, 10, 1, true}, map[int64]float64{9: 0.1, 10: 0.05, 15: 0.05}},
		{"cosine", CosineDecay{InitialLearningRate: 0.1, DecaySteps: 10}, map[int64]float64{0: 0.1, 5: 0.05, 10: 0, 20: 0}},
		{"cosine alpha", CosineDecay{InitialLearningRate: 0.1, DecaySteps: 10, Alpha: 0.1}, map[int64]float64{5: 0.1 * (0.9*0.5 + 0.1), 10: 0.01, 99: 0.01}},
		{"cosine warmup", CosineDecay{InitialLearningRate: 0, DecaySteps: 10, WarmupTarget: 0.1, WarmupSteps: 4},
			map[int64]float64{0: 0, 2: 0.05, 3: 0.075, 4: 0.1, 9: 0.05, 14: 0, 100: 0}},
		{"restarts", CosineDecayRestarts{0.1, 10, 2, 0.5, 0}, map[int64]float64{0: 0.1, 5: 0.05, 10: 0.05, 20: 0.025, 30: 0.025, 70: 0.0125}},
		{"restarts t_mul 1", CosineDecayRestarts{0.1, 10, 1, 1, 0.2}, map[int64]float64{3: 0.1 * (0.8*0.5*(1+cos(0.3)) + 0.2), 10: 0.1, 15: 0.1 * (0.8*0.5 + 0.2)}},
	} {
		if err := c.s.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for step, want := range c.at {
			if got := c.s.At(step); math.Abs(got-want) > 1e-12 {
				t.Errorf("%s at step %d: %.15g, want %.15g", c.name, step, got, want)
			}
		}
	}
}

func TestScheduleConfigs(t *testing.T) {
	var c ScheduleConfig
	js := `{"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
		"config": {"initial_learning_rate": 0.1, "decay_steps": 1000, "decay_rate": 0.9, "staircase": true, "name": "ExponentialDecay"}}`
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		t.Fatal(err)
	}
	s, err := c.Schedule()
	if err != nil {
		t.Fatal(err)
	}
	if s != (ExponentialDecay{0.1, 1000, 0.9, true}) {
		t.Fatalf("got %#v", s)
	}
	for _, bad := range []struct{ js, want string }{
		{`{"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 0, "decay_rate": 0.9}}`, "decay_steps = 0"},
		{`{"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9, "cycle": true}}`, "no argument cycle"},
		{`{"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [10, 20], "values": [1, 0.5]}}`, "one value more"},
		{`{"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [10, "x"], "values": [1, 0.5, 0.1]}}`, "not a number"},
		{`{"class_name": "WarmupThenDecay", "config": {}}`, "unknown learning rate schedule"},
		{`{"class_name": "OneCycle", "config": {"max_lr": 0.1, "total_steps": 100, "anneal_strategy": "exp"}}`, "anneal_strategy"},
		{`{"class_name": "OneCycle", "config": {"max_lr": 0.1, "total_steps": 10, "pct_start": 0.1}}`, "first phase no steps"},
	} {
		var c ScheduleConfig
		if err := json.Unmarshal([]byte(bad.js), &c); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Schedule(); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want %q", bad.js, err, bad.want)
		}
	}
}

// torchPython is Debian's python3 with python3-torch (CI installs it).
func torchPython(t *testing.T) string {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import torch").Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("python3 with torch is missing (CI installs python3-torch)")
	}
	t.Skip("no python3 with torch (apt-get install python3-torch)")
	return ""
}

// TestOneCycleAgainstPyTorch compares every step's rate and momentum with
// torch.optim.lr_scheduler.OneCycleLR, computed live, for SGD's momentum
// and Adam's beta_1, cosine and linear, two and three phases.
func TestOneCycleAgainstPyTorch(t *testing.T) {
	py := torchPython(t)
	cases := []OneCycle{
		NewOneCycle(0.1, 100),
		{MaxLR: 1, TotalSteps: 37, PctStart: 0.25, AnnealStrategy: "linear", CycleMomentum: true, BaseMomentum: 0.8, MaxMomentum: 0.9, DivFactor: 10, FinalDivFactor: 100},
		{MaxLR: 0.01, TotalSteps: 50, PctStart: 0.3, AnnealStrategy: "cos", CycleMomentum: true, BaseMomentum: 0.85, MaxMomentum: 0.95, DivFactor: 25, FinalDivFactor: 1e4, ThreePhase: true},
		{MaxLR: 0.5, TotalSteps: 23, PctStart: 0.4, AnnealStrategy: "linear", CycleMomentum: false, DivFactor: 5, FinalDivFactor: 1e3, ThreePhase: true},
		// First phases shorter than a step, which PyTorch skips.
		{MaxLR: 0.1, TotalSteps: 10, PctStart: 0, AnnealStrategy: "cos", CycleMomentum: true, BaseMomentum: 0.85, MaxMomentum: 0.95, DivFactor: 25, FinalDivFactor: 1e4},
		{MaxLR: 0.1, TotalSteps: 10, PctStart: 0.05, AnnealStrategy: "linear", CycleMomentum: true, BaseMomentum: 0.85, MaxMomentum: 0.95, DivFactor: 25, FinalDivFactor: 1e4},
		{MaxLR: 0.1, TotalSteps: 2, PctStart: 0.3, AnnealStrategy: "cos", CycleMomentum: true, BaseMomentum: 0.85, MaxMomentum: 0.95, DivFactor: 25, FinalDivFactor: 1e4},
		{MaxLR: 0.1, TotalSteps: 10, PctStart: 0, AnnealStrategy: "cos", CycleMomentum: true, BaseMomentum: 0.85, MaxMomentum: 0.95, DivFactor: 25, FinalDivFactor: 1e4, ThreePhase: true},
	}
	const script = `
import json, sys, torch
out = []
for c in json.load(sys.stdin):
    p = [torch.nn.Parameter(torch.zeros(1))]
    if c["adam"]:
        o = torch.optim.Adam(p, lr=0.1)
    else:
        o = torch.optim.SGD(p, lr=0.1, momentum=0.9)
    s = torch.optim.lr_scheduler.OneCycleLR(o, max_lr=c["max_lr"], total_steps=c["total_steps"], pct_start=float(c["pct_start"]),
        anneal_strategy=c["anneal"], cycle_momentum=c["cycle"], base_momentum=c["base"], max_momentum=c["max"],
        div_factor=c["div"], final_div_factor=c["final"], three_phase=c["three"])
    lrs, moms = [], []
    for i in range(c["total_steps"]):
        g = o.param_groups[0]
        lrs.append(g["lr"])
        moms.append(g["betas"][0] if c["adam"] else g["momentum"])
        o.step()
        s.step()
    out.append({"lr": lrs, "momentum": moms})
json.dump(out, sys.stdout)
`
	type in struct {
		MaxLR      float64 `json:"max_lr"`
		TotalSteps int64   `json:"total_steps"`
		PctStart   float64 `json:"pct_start"`
		Anneal     string  `json:"anneal"`
		Cycle      bool    `json:"cycle"`
		Base       float64 `json:"base"`
		Max        float64 `json:"max"`
		Div        float64 `json:"div"`
		Final      float64 `json:"final"`
		Three      bool    `json:"three"`
		Adam       bool    `json:"adam"`
	}
	var ins []in
	for i, c := range cases {
		ins = append(ins, in{c.MaxLR, c.TotalSteps, c.PctStart, c.AnnealStrategy, c.CycleMomentum, c.BaseMomentum, c.MaxMomentum, c.DivFactor, c.FinalDivFactor, c.ThreePhase, i%2 == 1})
	}
	b, _ := json.Marshal(ins)
	cmd := exec.Command(py, "-W", "ignore", "-c", script)
	cmd.Stdin = strings.NewReader(string(b))
	outb, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("torch: %v: %s", err, ee.Stderr)
		}
		t.Fatalf("torch: %v", err)
	}
	var outs []struct{ LR, Momentum []float64 }
	if err := json.Unmarshal(outb, &outs); err != nil {
		t.Fatalf("torch output: %v", err)
	}
	for i, c := range cases {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		for step := range c.TotalSteps {
			lr, mom := outs[i].LR[step], outs[i].Momentum[step]
			if got := c.At(step); math.Abs(got-lr) > 1e-12*math.Max(lr, 1e-6) {
				t.Fatalf("case %d step %d: rate %.17g, torch %.17g", i, step, got, lr)
			}
			if c.CycleMomentum {
				if got := c.Momentum(step); math.Abs(got-mom) > 1e-12 {
					t.Fatalf("case %d step %d: momentum %.17g, torch %.17g", i, step, got, mom)
				}
			}
		}
	}
}

// TestRatesFloat32Holds: a learning rate float32 makes 0 (or a denormal,
// or infinite) is refused, as a constant, a schedule's rate or a model
// file's; the bounds themselves are taken. 1e-50 trained at rate 0.
func TestRatesFloat32Holds(t *testing.T) {
	for _, v := range []float64{1e-50, 1e-40, 0, -1, 1e39} {
		for _, s := range []Schedule{Constant(v), ExponentialDecay{v, 10, 0.5, false}, PiecewiseConstantDecay{[]float64{1}, []float64{0.1, v}},
			CosineDecayRestarts{v, 10, 2, 1, 0}, NewOneCycle(v, 10)} {
			if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "want a number > 0, from 1.1754944e-38") {
				t.Errorf("%T with rate %g: %v", s, v, err)
			}
		}
		raw := fmt.Sprintf(`{"class_name": "Adam", "config": {"learning_rate": %g}}`, v)
		if _, err := ParseKeras(json.RawMessage(raw)); err == nil {
			t.Errorf("%s: accepted", raw)
		}
	}
	for _, v := range []float64{MinRate, MaxRate} {
		if err := Constant(v).Validate(); err != nil {
			t.Errorf("%g: %v", v, err)
		}
	}
	if err := (CosineDecay{InitialLearningRate: 1e-50, DecaySteps: 10, WarmupTarget: 0.1, WarmupSteps: 2}).Validate(); err == nil {
		t.Errorf("CosineDecay from 1e-50 accepted")
	}
}
