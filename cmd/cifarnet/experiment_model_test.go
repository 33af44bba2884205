package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/experiment"
)

// smallModelFile writes the exercise's Keras model file with units hidden
// units a layer and its compile_config's optimizer made optimizer
// (a Keras class name, e.g. Adam), and returns its path.
func smallModelFile(t *testing.T, dir, name string, units int, optimizer string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "keras", "exercise_model.json"))
	if err != nil {
		t.Skipf("the exercise's model file: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, l := range m["config"].(map[string]any)["layers"].([]any) {
		c := l.(map[string]any)["config"].(map[string]any)
		if c["activation"] == "elu" {
			c["units"] = units
		}
	}
	opt := m["compile_config"].(map[string]any)["optimizer"].(map[string]any)
	opt["class_name"] = optimizer
	opt["config"].(map[string]any)["name"] = strings.ToLower(optimizer)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExperimentModelFilePlan: an experiment whose base is a Keras model
// file trains that network with the file's optimizer, a grid over --lr
// changing only its learning rate; the runs' directories follow the
// file's content, not its name; a grid over a setting of the exercise's
// network (which the file replaces) is refused naming it; a grid over
// model files is a grid over networks.
func TestExperimentModelFilePlan(t *testing.T) {
	dir := t.TempDir()
	a := smallModelFile(t, dir, "a.json", 16, "Adam")
	s := &experiment.Spec{Base: []experiment.Setting{{Name: "model", Value: a}}, Seeds: []uint64{0, 1},
		Grid: []experiment.Axis{{Name: "lr", Values: []string{"0.01", "0.0003"}}}}
	runs, err := experiment.Plan(dir, s, applySettings)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 {
		t.Fatalf("%d runs, want 2 learning rates x 2 seeds", len(runs))
	}
	for i, r := range runs {
		c := r.Config
		if c.Model == nil || len(c.Model.Layers) != 5 || c.Model.Layers[0].Config["units"] != 16.0 {
			t.Fatalf("run %d does not train the file's network: %+v", i, c.Model)
		}
		if lr := []float64{0.01, 0.01, 0.0003, 0.0003}[i]; c.Optimizer != "adam" || c.LearningRate != lr || c.Seed != uint64(i%2) {
			t.Errorf("run %d: %s lr %g seed %d, want the file's adam with lr %g, seed %d", i, c.Optimizer, c.LearningRate, c.Seed, lr, i%2)
		}
	}

	// The same content under another name: the same runs. Other content
	// under the same name: other runs, none of the old ones overwritten.
	b := filepath.Join(dir, "b.json")
	content, _ := os.ReadFile(a)
	os.WriteFile(b, content, 0o644)
	s2 := *s
	s2.Base = []experiment.Setting{{Name: "model", Value: b}}
	renamed, err := experiment.Plan(dir, &s2, applySettings)
	if err != nil {
		t.Fatal(err)
	}
	smallModelFile(t, dir, "a.json", 17, "Adam")
	edited, err := experiment.Plan(dir, s, applySettings)
	if err != nil {
		t.Fatal(err)
	}
	for i := range runs {
		if renamed[i].Dir != runs[i].Dir {
			t.Errorf("run %d: the same model file under another name changed the run's directory", i)
		}
		for _, e := range edited {
			if e.Dir == runs[i].Dir {
				t.Errorf("run %d: the edited model file's run has the old run's directory %s", i, e.Dir)
			}
		}
	}

	// The exercise's network settings have nothing to apply to.
	for _, name := range []string{"activation", "hidden", "init"} {
		bad := *s
		bad.Grid = []experiment.Axis{{Name: name, Values: []string{map[string]string{"activation": "relu", "hidden": "32", "init": "glorot_uniform"}[name]}}}
		_, err := experiment.Plan(dir, &bad, applySettings)
		if err == nil || !strings.Contains(err.Error(), name+" describes the exercise's network") || !strings.Contains(err.Error(), "--grid model=") {
			t.Errorf("grid over %s with a model file: %v", name, err)
		}
	}

	// A grid over model files: one configuration each.
	c := smallModelFile(t, dir, "c.json", 8, "Nadam")
	g := &experiment.Spec{Seeds: []uint64{0}, Grid: []experiment.Axis{{Name: "model", Values: []string{b, c}}}}
	both, err := experiment.Plan(dir, g, applySettings)
	if err != nil {
		t.Fatal(err)
	}
	if len(both) != 2 || both[0].Config.Model.Layers[0].Config["units"] != 16.0 || both[1].Config.Model.Layers[0].Config["units"] != 8.0 ||
		both[0].Config.Optimizer != "adam" || both[1].Config.Optimizer != "nadam" || both[1].Label != "model="+c {
		t.Errorf("grid over model files: %+v", both)
	}
}

// TestExperimentModelFileRuns runs a small experiment on a model file (a
// seed sweep and a grid over --lr) to the end and reads its outputs.
func TestExperimentModelFileRuns(t *testing.T) {
	data := sharedData(t)
	dir := t.TempDir()
	model := smallModelFile(t, dir, "m.json", 16, "Adam")
	exp := filepath.Join(dir, "exp")
	stdout, stderr, code := run(t, "experiment", "--data", data, "--dir", exp, "--model", model, "--seeds", "0-2",
		"--grid", "lr=0.001,0.01", "--epochs", "2", "--train-samples", "500", "--test-samples", "100")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "lr=0.01") || !strings.Contains(stdout, "n=3") {
		t.Errorf("stdout: %s", stdout)
	}
	var e struct {
		Runs []struct {
			Config, Dir, Status string
		}
	}
	b, err := os.ReadFile(filepath.Join(exp, "experiment.json"))
	if err != nil || json.Unmarshal(b, &e) != nil || len(e.Runs) != 6 {
		t.Fatalf("experiment.json: %v, %d runs", err, len(e.Runs))
	}
	for _, r := range e.Runs {
		m := readMetrics(t, filepath.Join(exp, r.Dir))
		if r.Status != "finished" || m.Config.Optimizer != "adam" || m.Config.Model == nil || m.Config.Model.Layers[0].Config["units"] != 16.0 {
			t.Errorf("run %s (%s): %s, optimizer %s, model %+v", r.Dir, r.Config, r.Status, m.Config.Optimizer, m.Config.Model)
		}
	}
	// Grid over the exercise's activation with a model file: exit 2, one line.
	_, stderr, code = run(t, "experiment", "--data", data, "--dir", filepath.Join(dir, "bad"), "--model", model, "--grid", "activation=elu,relu")
	if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "activation describes the exercise's network") {
		t.Errorf("grid over activation with --model: exit %d, %q", code, stderr)
	}
}

// TestModelFileLearningRate: --lr with a model file changes the learning
// rate of the file's optimizer (a schedule's initial rate), as setting a
// Keras optimizer's learning_rate does; its class and arguments stay.
func TestModelFileLearningRate(t *testing.T) {
	dir := t.TempDir()
	path := smallModelFile(t, dir, "m.json", 8, "SGD")
	b, _ := os.ReadFile(path)
	var m map[string]any
	json.Unmarshal(b, &m)
	m["compile_config"].(map[string]any)["optimizer"] = map[string]any{"module": "keras.optimizers", "class_name": "SGD",
		"config": map[string]any{"name": "SGD", "momentum": 0.9, "learning_rate": map[string]any{"module": "keras.optimizers.schedules",
			"class_name": "ExponentialDecay", "config": map[string]any{"initial_learning_rate": 0.1, "decay_steps": 100, "decay_rate": 0.5}}}}
	b, _ = json.Marshal(m)
	os.WriteFile(path, b, 0o644)
	for _, c := range []struct {
		lr   string
		want float64
	}{{"", 0.1}, {"0.03", 0.03}} {
		settings := []experiment.Setting{{Name: "model", Value: path}}
		if c.lr != "" {
			settings = append(settings, experiment.Setting{Name: "lr", Value: c.lr})
		}
		cfg, err := applySettings(settings)
		if err != nil {
			t.Fatal(err)
		}
		s, err := cfg.Schedule()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Optimizer != "sgd" || cfg.OptimizerArgs["momentum"] != 0.9 || s.At(0) != c.want || s.At(100) != c.want/2 {
			t.Errorf("--lr %q: %s %v, rate %g at step 0 and %g at 100, want sgd momentum 0.9 from %g halving", c.lr, cfg.Optimizer, cfg.OptimizerArgs, s.At(0), s.At(100), c.want)
		}
	}
}

// TestExperimentModelFileChanged: an experiment's runs are named by the
// hash of their configuration, which holds the model file's content (not
// its name): the same command after the file changed is refused in the
// experiment's directory (its recorded runs are of the old model, which
// it would have left orphaned), and trains the new model's own runs in
// another, never counting the old model's runs as its own; report and
// collect, which train nothing, redraw the old model's runs with a
// warning.
func TestExperimentModelFileChanged(t *testing.T) {
	data := sharedData(t)
	dir := t.TempDir()
	exp := filepath.Join(dir, "exp")
	model := smallModelFile(t, dir, "m.json", 16, "Adam")
	args := []string{"experiment", "--data", data, "--dir", exp, "--model", model, "--seeds", "0",
		"--epochs", "1", "--train-samples", "300", "--test-samples", "100"}
	runDir := func() string {
		t.Helper()
		var e struct {
			Runs []struct{ Dir, Status string }
		}
		b, err := os.ReadFile(filepath.Join(exp, "experiment.json"))
		if err != nil || json.Unmarshal(b, &e) != nil || len(e.Runs) != 1 || e.Runs[0].Status != "finished" {
			t.Fatalf("experiment.json: %v, %+v", err, e.Runs)
		}
		return e.Runs[0].Dir
	}
	if _, stderr, code := run(t, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	first := runDir()
	smallModelFile(t, dir, "m.json", 24, "Adam")
	if _, stderr, code := run(t, args...); code != 2 || !strings.Contains(stderr, "changed since the experiment began") || !strings.Contains(stderr, "in another experiment directory (--dir)") {
		t.Fatalf("the same directory after the model changed: exit %d: %s", code, stderr)
	}
	if runDir() != first {
		t.Fatal("the refused command changed experiment.json")
	}
	// Redrawing trains nothing: report and collect redraw the run trained
	// (not reported missing), with one line of warning.
	for _, sub := range []string{"report", "collect"} {
		stdout, stderr, code := run(t, "experiment", sub, exp)
		if code != 0 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 ||
			!strings.Contains(stderr, "warning: model "+model+" changed since the experiment began") || !strings.Contains(stderr, "as they were trained") {
			t.Errorf("experiment %s after the model changed: exit %d: %s%s", sub, code, stdout, stderr)
		}
		if runDir() != first {
			t.Fatalf("experiment %s after the model changed: the run trained is not the one reported", sub)
		}
	}
	second := filepath.Join(dir, "exp2")
	os.Rename(exp, second)
	// The new experiment recorded (its command then failing: no data),
	// the old run beside: not counted.
	noData := append([]string(nil), args...)
	noData[2] = filepath.Join(dir, "none")
	if _, stderr, code := run(t, noData...); code == 0 {
		t.Fatalf("no data: exit 0: %s", stderr)
	}
	os.Rename(filepath.Join(second, "runs"), filepath.Join(exp, "runs"))
	stdout, stderr, code := run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stdout, "already finished") {
		t.Errorf("the run of the old model counted as the new one's: %s", stdout)
	}
	secondRun := runDir()
	if secondRun == first {
		t.Fatalf("the changed model's run is in the old one's directory %s", first)
	}
	for d, units := range map[string]float64{first: 16, secondRun: 24} {
		if m := readMetrics(t, filepath.Join(exp, d)); m.Config.Model == nil || m.Config.Model.Layers[0].Config["units"] != units {
			t.Errorf("run %s: model %+v, want %v units", d, m.Config.Model, units)
		}
	}
}

// scheduledModelFile writes a small model file whose SGD's learning_rate
// is the schedule (class and config) given.
func scheduledModelFile(t *testing.T, dir, name, class string, config map[string]any) string {
	t.Helper()
	path := smallModelFile(t, dir, name, 8, "SGD")
	b, _ := os.ReadFile(path)
	var m map[string]any
	json.Unmarshal(b, &m)
	m["compile_config"].(map[string]any)["optimizer"] = map[string]any{"module": "keras.optimizers", "class_name": "SGD",
		"config": map[string]any{"name": "SGD", "learning_rate": map[string]any{"module": "keras.optimizers.schedules",
			"class_name": class, "config": config}}}
	b, _ = json.Marshal(m)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestModelFileScheduleFlags: --lr-schedule constant replaces a model
// file's schedule (it was ignored: the run decayed, an experiment's
// lr-schedule=constant was mislabelled) with the schedule's initial rate,
// or --lr's; --lr with a piecewise schedule (whose rates are its values),
// from the file or from --lr-schedule, is refused instead of ignored.
func TestModelFileScheduleFlags(t *testing.T) {
	dir := t.TempDir()
	exp := scheduledModelFile(t, dir, "exp.json", "ExponentialDecay", map[string]any{"initial_learning_rate": 0.1, "decay_steps": 32, "decay_rate": 0.5})
	pw := scheduledModelFile(t, dir, "pw.json", "PiecewiseConstantDecay", map[string]any{"boundaries": []any{10}, "values": []any{0.2, 0.02}})
	for _, c := range []struct {
		settings []experiment.Setting
		want     float64
	}{
		{[]experiment.Setting{{Name: "model", Value: exp}, {Name: "lr-schedule", Value: "constant"}}, 0.1},
		{[]experiment.Setting{{Name: "lr-schedule", Value: "constant"}, {Name: "model", Value: exp}, {Name: "lr", Value: "0.03"}}, 0.03},
		{[]experiment.Setting{{Name: "model", Value: pw}, {Name: "lr-schedule", Value: "constant"}}, 0.2},
	} {
		cfg, err := applySettings(c.settings)
		if err != nil {
			t.Fatalf("%v: %v", c.settings, err)
		}
		if cfg.LRSchedule != nil || cfg.LearningRate != c.want {
			t.Errorf("%v: schedule %+v, rate %g, want the constant rate %g", c.settings, cfg.LRSchedule, cfg.LearningRate, c.want)
		}
	}
	if _, stderr, code := run(t, "train", "--data", "/nonexistent", "--model", pw, "--lr", "0.01"); code != 2 || !strings.Contains(stderr, "not --lr") {
		t.Errorf("train --model piecewise --lr: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code := run(t, "train", "--data", "/nonexistent", "--lr-schedule", "piecewise", "--boundaries", "2", "--values", "0.001,0.0005", "--lr", "0.1")
	if code != 2 || !strings.Contains(stderr, "--lr 0.1: --lr-schedule piecewise takes its rates from --values") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("train --lr-schedule piecewise --lr: exit %d, stderr %q", code, stderr)
	}
}

// TestExperimentBaseWithGridOptions: an experiment's base may hold an
// option only some of its configurations use (--ema-momentum beside
// --grid use-ema=true,false, as the previous version recorded): train's
// refusal of ignored options does not apply to experiment settings, whose
// base is checked alone and whose recorded specs must stay readable.
func TestExperimentBaseWithGridOptions(t *testing.T) {
	s := &experiment.Spec{Base: []experiment.Setting{{Name: "ema-momentum", Value: "0.95"}},
		Grid: []experiment.Axis{{Name: "use-ema", Values: []string{"true", "false"}}}, Seeds: []uint64{0}}
	runs, err := experiment.Plan(t.TempDir(), s, applySettings)
	if err != nil || len(runs) != 2 {
		t.Fatalf("planned %d runs: %v", len(runs), err)
	}
	if runs[0].Config.OptimizerArgs["ema_momentum"] != 0.95 {
		t.Errorf("use-ema=true run: %v", runs[0].Config.OptimizerArgs)
	}
}
