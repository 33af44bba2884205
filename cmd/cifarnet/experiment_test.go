package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cifarnet/cifarnet/experiment"
	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/train"
)

// TestExperimentBadInput wants, for each bad experiment, exit status 2,
// one line on stderr that says what is wrong (want), no part of it said
// twice ("grid lr=abc: lr=abc: ..." once did), and nothing written.
func TestExperimentBadInput(t *testing.T) {
	dir := t.TempDir()
	spec := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	typo := spec("typo.toml", "seeds = \"0-1\"\n[grd]\nactivation = [\"elu\"]\n")
	baseLR := spec("base.toml", "seeds = \"0-1\"\n[base]\nlr = \"abc\"\n")
	gridLR := spec("grid.toml", "seeds = \"0-1\"\n[grid]\nlr = [0.001, \"abc\"]\n")
	reversed := spec("reversed.toml", "seeds = \"9-2\"\n")
	emptyConfigs := spec("configs.toml", "seeds = \"0-1\"\nconfig = []\n")
	sampleTypo := spec("sample.toml", "seeds = \"0-1\"\n[base]\ntrain_sample = 100\n")
	namedSeed := spec("named.toml", "seeds = \"0-2\"\nnamed_seed = 7\n")
	namedSeedOK := spec("named-ok.toml", "seeds = \"0-9\"\nnamed_seed = 7\n")
	exp := filepath.Join(dir, "exp")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--grid", "activaton=elu,relu"}, `grid activaton=elu: unknown setting "activaton"`},
		{[]string{"--grid", "activation="}, "grid activation: no values"},
		{[]string{"--grid", "activation=elu,swish?"}, `grid activation=swish?: unknown activation "swish?"`},
		{[]string{"--grid", "activation=elu,elu"}, `grid activation: value "elu" twice`},
		{[]string{"--grid", "lr=abc"}, "grid lr=abc: not a number"},
		{[]string{"--grid", "hidden=abc"}, "grid hidden=abc: not a comma-separated list of integers"},
		{[]string{"--grid", "batch-size=0,1"}, "grid batch-size=0: want 1 to"},
		{[]string{"--grid", "monitor=val_loss,learning_rate", "--lr-schedule", "cosine", "--decay-steps", "10"}, "grid monitor=learning_rate: early stopping: cannot tell whether learning_rate should be maximized or minimized: give --mode min or max"},
		{[]string{"--grid", "optimizer=sgd,nadam", "--nesterov"}, "grid optimizer=nadam: --nesterov: an argument of sgd, not of nadam (give --optimizer sgd)"},
		{[]string{"--grid", "activation=elu,relu", "--grid", "batch-size=0"}, "grid activation=elu batch-size=0: --batch-size 0: want 1 to"},
		{[]string{"--grid", "seed=1,2"}, "grid seed: seeds are given by --seeds"},
		{[]string{"--grid", "threads=1,2"}, `grid threads=1: setting "threads": not a setting of a run: give the experiment's own --threads`},
		{[]string{"--config", "a: data=x"}, `config a: setting "data": not a setting of a run: every run of an experiment reads the experiment's own --data`},
		{[]string{"--grid", "=1"}, `grid "=1": want SETTING=VALUE`},
		{[]string{"--epochs", "0"}, "base: --epochs 0: want 1 to"},
		{[]string{"--baseline-config", "activation=relu"}, `baseline "activation=relu" is not one of the configurations (base)`},
		{[]string{"--grid", "activation=elu,relu", "--baseline-config", "relu"}, `baseline "relu" is not one of the configurations (activation=elu, activation=relu)`},
		{[]string{"--spec", typo}, `unknown key "grd"`},
		{[]string{"--spec", baseLR}, "base: --lr abc: not a number"},
		{[]string{"--spec", gridLR}, "grid lr=abc: not a number"},
		{[]string{"--spec", reversed}, `seeds "9-2": the range 9-2 is reversed (did you mean 2-9?)`},
		{[]string{"--shard", "2/2"}, "--shard 2/2"},
		{[]string{"--threads", "1000000000"}, "--threads 1000000000: want 0 (the CPUs divided among the runs) to"},
		{[]string{"--seeds", "5-1"}, `--seeds "5-1": the range 5-1 is reversed (did you mean 1-5?)`},
		{[]string{"--seeds", "5-x"}, `--seeds "5-x": "5-x" is not a range like 0-29`},
		{[]string{"--seeds", "x"}, `--seeds "x": "x" is not a seed or a range like 0-29`},
		{[]string{"--seeds", ""}, "--seeds given empty"},
		{[]string{"--seeds", "1,1"}, `--seeds "1,1": seed 1 twice`},
		{[]string{"--seeds", "0-100000"}, `--seeds "0-100000": more than 100000 seeds`},
		{[]string{"--grid", "model=" + filepath.Join(dir, "none.json")}, "grid model=" + filepath.Join(dir, "none.json") + ": no such file"},
		{[]string{"--grid", "layers=dense(1);dense(x)"}, `grid layers=dense(x): layer "dense" (Dense): units: want a whole number`},
		{[]string{"--config", "a", "--config", "a: activation=relu"}, "config a: the name is given twice"},
		{[]string{"--config", "a: activaton=relu"}, `config a: unknown setting "activaton"`},
		{[]string{"--config", "a: activation=nope"}, `config a: --activation nope: unknown activation "nope"`},
		{[]string{"--config", "a: lr=abc"}, "config a: --lr abc: not a number"},
		{[]string{"--config", "a: optimizer=adadelta; amsgrad=true"}, "config a: amsgrad: a setting of adam and adamw, not of adadelta (set optimizer=adam or adamw)"},
		{[]string{"--grid", "optimizer=adam,sgd", "--config", "b: beta-1=0.8"}, "beta-1: a setting of adam, adamax, adamw, lion and nadam, not of sgd (set optimizer=adam, adamax, adamw, lion or nadam)"},
		{[]string{"--config", "a", "--config", "elu: activation=elu"}, "config elu: the same configuration as a once its settings are applied"},
		{[]string{"--config", "a: lr=0.1", "--grid", "lr=0.01,0.001"}, "config a: sets lr, which the grid varies"},
		{[]string{"--config", ""}, `--config "": want NAME or NAME: SETTING=VALUE`},
		{[]string{"--config", "a: activation"}, `--config a: "activation" is not SETTING=VALUE`},
		{[]string{"--config", "a b: epochs=2"}, `config "a b": a name of 1 to 64 letters`},
		{[]string{"--config", "a: seed=3"}, "config a: seed: seeds are given by --seeds"},
		{[]string{"--config", "a: batch-size=0"}, "config a: --batch-size 0: want 1 to"},
		{[]string{"--config", "a: model=" + filepath.Join(dir, "none.json")}, "config a: model " + filepath.Join(dir, "none.json") + ": no such file"},
		{[]string{"--config", "a", "--config", "b: epochs=3", "--baseline-config", "c"}, `baseline "c" is not one of the configurations (a, b)`},
		{[]string{"--spec", emptyConfigs}, "config: an empty list"},
		{[]string{"--seeds", "0-99999", "--config", "a", "--config", "b: epochs=3"}, "make more than 100000 runs"},
		{[]string{"--grid", "lr=0.001,1e-3"}, "grid lr=1e-3: the same configuration as lr=0.001"},
		{[]string{"--grid", "layers=dense(64, elu), batchnorm"}, `grid "layers=dense(64, elu), batchnorm": "dense(64", cut at a comma, has unbalanced brackets: values that hold commas are separated by ";" (e.g. layers=dense(64, elu), batchnorm;dense(32, elu))`},
		{[]string{"--config", "s: optimizer=sgd, momentum=0.9"}, `--config s: "optimizer=sgd, momentum=0.9": ';' separates a configuration's settings, not ',' (e.g. "s: optimizer=sgd; momentum=0.9")`},
		{[]string{"--spec", sampleTypo}, `base: unknown setting "train-sample" (did you mean train-samples?)`},
		{[]string{"--grid", "epoch=1,2"}, `grid epoch=1: unknown setting "epoch" (did you mean epochs?)`},
		{[]string{"--grid", "dataset=cifar10,mnist"}, "grid dataset=mnist: trains on MNIST, where dataset=cifar10 trains on CIFAR-10: accuracies on different data sets are not a controlled comparison (each has its own test set); run one experiment per data set"},
		{[]string{"--config", "c", "--config", "m: dataset=mnist"}, "config m: trains on MNIST, where c trains on CIFAR-10"},
		{[]string{"--named-seed", "7", "--seeds", "0-2"}, "--named-seed 7: not one of the experiment's seeds (0-2)"},
		{[]string{"--spec", namedSeed}, "spec " + namedSeed + ": named_seed 7: not one of the experiment's seeds (0-2)"},
		{[]string{"--spec", namedSeedOK, "--seeds", "0-2"}, "named_seed 7: not one of the experiment's seeds (0-2)"},
		{[]string{"--decay-steps", "50", "--grid", "lr-schedule=constant,cosine"}, `grid lr-schedule=constant: schedule arguments (decay-steps) given with lr-schedule constant, which takes none: the base gives them to every configuration; give each schedule its arguments in named configurations instead of the grid (e.g. --config "constant: lr-schedule=constant" --config "cosine: lr-schedule=cosine; decay-steps=50")`},
		{[]string{"--decay-steps", "50", "--decay-rate", "0.9", "--grid", "lr-schedule=cosine,exponential"}, `grid lr-schedule=cosine: CosineDecay has no argument decay_rate (it takes alpha, decay_steps, initial_learning_rate, name, warmup_steps, warmup_target): the base gives them to every configuration; give each schedule its arguments in named configurations instead of the grid (e.g. --config "cosine: lr-schedule=cosine" --config "exponential: lr-schedule=exponential; decay-rate=0.9")`},
		{[]string{"--decay-steps", "50", "--decay-rate", "0.9", "--grid", "lr-schedule=cosine,constant"}, `(e.g. --config "cosine: lr-schedule=cosine", and decay-rate=0.9 only to the schedules that take them)`},
		{[]string{"--decay-steps", "50", "--config", "c: lr-schedule=constant", "--config", "cos: lr-schedule=cosine"}, `config c: schedule arguments (decay-steps) given with lr-schedule constant, which takes none: the base gives them to every configuration; give them only in the named configurations whose schedules take them (e.g. --config "cos: lr-schedule=cosine; decay-steps=50")`},
		{[]string{"--config", "c: lr-schedule=constant; decay-steps=50"}, `config c: schedule arguments (decay-steps) given with lr-schedule constant, which takes none`},
		// 1cycle's errors keep the configuration they are about; the base's
		// flags are offered as fixes for the base only.
		{[]string{"--lr-schedule", "onecycle", "--optimizer", "sgd", "--momentum", "0.9", "--total-steps", "40", "--grid", "epochs=1,3"}, "grid epochs=3: --total-steps 40: fewer than the run's 96 steps (epochs × steps an epoch: 3 × 32), which 1cycle (PyTorch's OneCycleLR) cannot step past: want 96 or more, or fewer epochs (1cycle's total_steps)"},
		{[]string{"--optimizer", "sgd", "--grid", "lr-schedule=constant,onecycle"}, "grid lr-schedule=onecycle: sgd: momentum = 0: the schedule cycles the momentum: want above 0, e.g. 0.9 (or 1cycle's cycle_momentum = false)"},
		{[]string{"--lr-schedule", "onecycle", "--optimizer", "sgd"}, "base: --momentum 0: the schedule cycles the momentum: want above 0, e.g. 0.9 (or --cycle-momentum=false) (sgd's momentum)"},
		{[]string{"slurm", "--seeds", "0-1"}, "--shards is required"},
		{[]string{"slurm", "--seeds", "0-1", "--shards", "3"}, "--shards 3: want 1 to 2 (the experiment's runs)"},
		{[]string{"slurm", "--seeds", "0-1", "--shards", "2", "--cpus-per-task", "0"}, "--cpus-per-task 0: want 1 to"},
		{[]string{"slurm", "--seeds", "1-0", "--shards", "1"}, `--seeds "1-0": the range 1-0 is reversed`},
	} {
		args := append([]string{"experiment", "--dir", exp}, tt.args...)
		if tt.args[0] == "slurm" {
			args = append([]string{"experiment", "slurm", "--dir", exp}, tt.args[1:]...)
		}
		_, stderr, code := run(t, args...)
		line := strings.TrimSpace(stderr)
		if code != 2 || !strings.Contains(line, tt.want) || strings.Count(line, "\n") != 0 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line containing %q", tt.args, code, stderr, tt.want)
		}
		if d := saidTwice(line); d != "" {
			t.Errorf("%q: %q says %q twice", tt.args, line, d)
		}
	}
	if _, err := os.Stat(exp); !os.IsNotExist(err) {
		t.Errorf("a bad experiment made its directory")
	}
	// --dir naming a file, or a path through one, as train's --out.
	for _, d := range []string{typo, filepath.Join(typo, "exp")} {
		_, stderr, code := run(t, "experiment", "--dir", d, "--seeds", "0", "--data", sharedData(t))
		if code != 2 || !strings.Contains(stderr, "--dir "+d+": not a directory (a file is there, or in its path)") {
			t.Errorf("--dir %s: exit %d, stderr %q", d, code, stderr)
		}
	}
}

// saidTwice returns a part of an error message (between ": ") that another
// part says again, "lr=abc" and "--lr abc" counting as the same; "" if
// none.
func saidTwice(msg string) string {
	seen := map[string]bool{}
	for _, part := range strings.Split(msg, ": ") {
		k := strings.TrimPrefix(strings.TrimPrefix(part, "grid "), "--")
		k = strings.Trim(strings.Replace(k, " ", "=", 1), `"`)
		if k == "cifarnet" || k == "" {
			continue
		}
		if seen[k] {
			return part
		}
		seen[k] = true
	}
	return ""
}

func TestSaidTwice(t *testing.T) {
	for msg, want := range map[string]string{
		"cifarnet: grid lr=abc: lr=abc: invalid":                "lr=abc",
		"cifarnet: activation=nope: --activation nope: unknown": "--activation nope",
		"cifarnet: grid lr=abc: invalid argument":               "",
		"cifarnet: base: --epochs 0: want 1":                    "",
	} {
		if got := saidTwice(msg); got != want {
			t.Errorf("saidTwice(%q) = %q, want %q", msg, got, want)
		}
	}
}

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{1, "1 seed"}, {0, "0 seeds"}, {30, "30 seeds"}} {
		if got := report.Count(c.n, "seed"); got != c.want {
			t.Errorf("count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

// TestParallelMemoryCounted: --parallel N counts N runs' memory at once
// (each run checked only its own estimate, so two runs of 0.95 GB each
// started together under a 1.5 GiB limit); one at a time still trains.
func TestParallelMemoryCounted(t *testing.T) {
	data := sharedData(t)
	dir := filepath.Join(t.TempDir(), "exp")
	args := []string{"GOMEMLIMIT=1500MiB", binary, "experiment", "--seeds", "0-1", "--hidden", "4096,4096", "--epochs", "1",
		"--train-samples", "100", "--test-samples", "100", "--data", data, "--dir", dir, "--quiet"}
	_, stderr, code := runProgram(t, 120*time.Second, "env", append(args, "--parallel", "2")...)
	if code != 2 || !strings.Contains(stderr, "--parallel 2: 2 runs at once need about") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("--parallel 2: exit %d, stderr %q, want exit 2 and one line naming --parallel", code, stderr)
	}
	if _, stderr, code = runProgram(t, 120*time.Second, "env", append(args, "--parallel", "1")...); code != 0 {
		t.Fatalf("--parallel 1: exit %d, stderr %q", code, stderr)
	}
}

// TestExperimentNamedConfigs: named configurations from the command line
// and from a spec file, the first the baseline unless one is named; their
// names in summary.csv, runs.csv, experiment.json and the report; a named
// configuration that is a grid's configuration finds the grid's runs
// finished.
func TestExperimentNamedConfigs(t *testing.T) {
	data := sharedData(t)
	tmp := t.TempDir()
	small := []string{"--data", data, "--seeds", "0-1", "--epochs", "1", "--train-samples", "200", "--test-samples", "50", "--hidden", "8"}
	// A grid first: its runs are then a named experiment's.
	grid := filepath.Join(tmp, "grid")
	if _, stderr, code := run(t, append([]string{"experiment", "--dir", grid, "--grid", "activation=elu,relu", "-q"}, small...)...); code != 0 {
		t.Fatalf("grid: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := run(t, append([]string{"experiment", "--dir", grid, "--config", "exercise", "--config", "relu: activation=relu"}, small...)...)
	if code != 0 || !strings.Contains(stdout, "4 of 4 runs already finished") {
		t.Fatalf("the grid's runs as named configurations: exit %d, stdout %q, stderr %q; want every run found finished", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "relu against exercise:") {
		t.Errorf("stdout %q: want relu compared with exercise, the first", stdout)
	}
	// A spec file: three named configurations, the baseline named.
	toml := filepath.Join(tmp, "named.toml")
	os.WriteFile(toml, []byte(`seeds = "0-1"
baseline = "relu"
[base]
epochs = 1
train-samples = 200
test-samples = 50
hidden = 8
[[config]]
name = "exercise"
[[config]]
name = "relu"
activation = "relu"
[[config]]
name = "selu"
activation = "selu"
init = "lecun_normal"
`), 0o644)
	dir := filepath.Join(tmp, "named")
	if stdout, stderr, code = run(t, "experiment", "--spec", toml, "--data", data, "--dir", dir); code != 0 {
		t.Fatalf("spec: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"exercise against relu:", "selu against relu:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout %q: want %q", stdout, want)
		}
	}
	summary, _ := os.ReadFile(filepath.Join(dir, "summary.csv"))
	lines := strings.Split(string(summary), "\n")
	if !strings.HasPrefix(lines[0], "config,name,runs,") || !strings.HasPrefix(lines[1], "exercise,exercise,2,2,") ||
		!strings.HasPrefix(lines[2], "relu,relu,2,2,") || !strings.HasPrefix(lines[3], "selu,selu,2,2,") {
		t.Errorf("summary.csv:\n%s", summary)
	}
	if !strings.Contains(lines[3], ",relu,") || strings.Contains(lines[2], ",relu,-") {
		t.Errorf("summary.csv: selu's row should be compared with relu, relu's not with itself:\n%s", summary)
	}
	runsCSV, _ := os.ReadFile(filepath.Join(dir, "runs.csv"))
	if !strings.HasPrefix(string(runsCSV), "config,name,seed,") || !strings.Contains(string(runsCSV), "\nselu,selu,1,finished,") {
		t.Errorf("runs.csv:\n%s", runsCSV)
	}
	var sum struct {
		Spec       experiment.Spec `json:"spec"`
		Statistics struct {
			Baseline string `json:"baseline"`
		} `json:"statistics"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "experiment.json"))
	if err := json.Unmarshal(b, &sum); err != nil || sum.Statistics.Baseline != "relu" || len(sum.Spec.Configs) != 3 || sum.Spec.Configs[2].Name != "selu" {
		t.Errorf("experiment.json: %v, baseline %q, configs %+v", err, sum.Statistics.Baseline, sum.Spec.Configs)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !strings.Contains(string(html), "Comparisons with relu") || !strings.Contains(string(html), "<td>selu</td>") {
		t.Errorf("report.html does not compare the named configurations with relu")
	}
	for _, want := range []string{"<h1>CIFAR-10 experiment</h1>", `<div class="k">configurations (named)`, "<td>selu</td><td>activation=selu init=lecun_normal</td>",
		"The base settings of every run: epochs=1 hidden=8 test-samples=50 train-samples=200."} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// The exercise and relu runs are the grid's (the same configurations).
	for _, cfg := range []string{"exercise", "relu"} {
		for _, line := range strings.Split(string(runsCSV), "\n") {
			if strings.HasPrefix(line, cfg+",") {
				d := line[strings.LastIndex(line, ",")+1:]
				if _, err := os.Stat(filepath.Join(grid, d, "model.safetensors")); err != nil {
					t.Errorf("%s: run %s is not one of the grid's", cfg, d)
				}
			}
		}
	}
	// "experiment report" redraws it from spec.json alone.
	if stdout, stderr, code = run(t, "experiment", "report", dir); code != 0 || !strings.Contains(stdout, "selu against relu:") {
		t.Errorf("experiment report: exit %d, %q %q", code, stdout, stderr)
	}
}

// TestExperimentNotAnExperimentDir: --dir naming a run's directory, or
// one holding files of the user's, is refused (exit 2, one line) and left
// as it was; an empty directory is used.
func TestExperimentNotAnExperimentDir(t *testing.T) {
	data := sharedData(t)
	tmp := t.TempDir()
	small := []string{"--data", data, "--epochs", "1", "--train-samples", "200", "--test-samples", "50", "--hidden", "8", "-q"}
	base := filepath.Join(tmp, "base")
	if _, stderr, code := run(t, append([]string{"train", "--out", base}, small...)...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	mine := filepath.Join(tmp, "mine")
	os.Mkdir(mine, 0o755)
	os.WriteFile(filepath.Join(mine, "report.html"), []byte("mine"), 0o644)
	for _, dir := range []string{base, mine} {
		before, _ := os.ReadFile(filepath.Join(dir, "report.html"))
		_, stderr, code := run(t, append([]string{"experiment", "--seeds", "0-1", "--dir", dir}, small...)...)
		line := strings.TrimSpace(stderr)
		if code != 2 || !strings.Contains(line, "experiment "+dir+": not an experiment directory: it holds ") || strings.Contains(line, "\n") {
			t.Errorf("--dir %s: exit %d, stderr %q; want 2 and one line saying it is not an experiment directory", dir, code, stderr)
		}
		if after, _ := os.ReadFile(filepath.Join(dir, "report.html")); string(after) != string(before) {
			t.Errorf("--dir %s: its report.html was overwritten", dir)
		}
	}
	empty := filepath.Join(tmp, "empty")
	os.Mkdir(empty, 0o755)
	if _, stderr, code := run(t, append([]string{"experiment", "--seeds", "0", "--dir", empty}, small...)...); code != 0 {
		t.Errorf("an empty --dir: exit %d: %s", code, stderr)
	}
	// train --out an experiment's directory, --overwrite or not, is refused
	// and leaves it as it was (--overwrite replaced it, a running one too).
	for _, extra := range [][]string{nil, {"--overwrite"}} {
		args := append([]string{"train", "--data", data, "--epochs", "1", "--train-samples", "200", "--test-samples", "50", "--hidden", "8", "-q", "--out", empty}, extra...)
		if _, stderr, code := run(t, args...); code != 2 || !strings.Contains(stderr, "is an experiment's directory (it holds spec.json)") {
			t.Errorf("train --out an experiment %v: exit %d, stderr %q", extra, code, stderr)
		}
		if _, err := os.Stat(filepath.Join(empty, experiment.SpecFile)); err != nil {
			t.Errorf("train --out an experiment %v: %v", extra, err)
		}
	}
	// The data's own directory, as train's --out, is refused.
	linked := linkedData(t)
	if _, stderr, code := run(t, "experiment", "--data", linked, "--seeds", "0", "--epochs", "1", "--train-samples", "200", "--test-samples", "50", "--hidden", "8", "-q", "--dir", linked); code != 2 || !strings.Contains(stderr, "is or holds the data the run reads") {
		t.Errorf("--dir the data's directory: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(linked, experiment.SpecFile)); err == nil {
		t.Error("--dir the data's directory: spec.json written into it")
	}
	// A spec file kept in the directory it describes is the user's way.
	kept := filepath.Join(tmp, "kept")
	os.Mkdir(kept, 0o755)
	spec := filepath.Join(kept, "act.toml")
	os.WriteFile(spec, []byte("seeds = \"0\"\n[grid]\nactivation = [\"elu\", \"relu\"]\n"), 0o644)
	if _, stderr, code := run(t, append([]string{"experiment", "--spec", spec, "--dir", kept}, small...)...); code != 0 {
		t.Errorf("--dir holding its --spec file: exit %d: %s", code, stderr)
	}
}

// TestExperimentOtherData: extending an experiment with other data (one
// byte changed) is refused, exit 2, one line naming both SHA-256 and the
// data; an experiment recorded without the data's SHA-256 (an earlier
// version) is extended and records it.
func TestExperimentOtherData(t *testing.T) {
	data := sharedData(t)
	tmp := t.TempDir()
	// The first 200 training and 50 test images, one byte of an image changed.
	other := filepath.Join(tmp, "other")
	os.Mkdir(other, 0o755)
	for name, n := range map[string]int{"data_batch_1.bin": 200, "test_batch.bin": 50, "batches.meta.txt": -1} {
		b, err := os.ReadFile(filepath.Join(data, name))
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			b = b[:n*3073]
		}
		if name == "data_batch_1.bin" {
			b[100] ^= 1
		}
		os.WriteFile(filepath.Join(other, name), b, 0o644)
	}
	dir := filepath.Join(tmp, "exp")
	small := []string{"--epochs", "1", "--train-samples", "200", "--test-samples", "50", "--hidden", "8", "--dir", dir, "-q"}
	if _, stderr, code := run(t, append([]string{"experiment", "--data", data, "--seeds", "0-1"}, small...)...); code != 0 {
		t.Fatalf("first: exit %d: %s", code, stderr)
	}
	s, err := experiment.ReadSpec(dir)
	if err != nil || len(s.Data) != 1 {
		t.Fatalf("spec.json: %+v %v, want the data's SHA-256", s, err)
	}
	was := s.Data[0].SHA256
	_, stderr, code := run(t, append([]string{"experiment", "--data", other, "--seeds", "0-2"}, small...)...)
	line := strings.TrimSpace(stderr)
	if code != 2 || !strings.Contains(line, "the data at "+other+" are not those its runs were trained on (SHA-256 "+was[:12]+"… then, ") || !strings.HasSuffix(line, "give the experiment's own data, or use another experiment directory (--data, --dir)") || strings.Contains(line, "\n") {
		t.Fatalf("other data: exit %d, stderr %q; want 2 and one line naming both and the flags", code, stderr)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, experiment.RunsDir)); len(ents) != 2 {
		t.Errorf("other data: %d runs, want the first 2 only", len(ents))
	}
	// An experiment of an earlier version: its spec.json has no data.
	b, _ := os.ReadFile(filepath.Join(dir, experiment.SpecFile))
	var old map[string]any
	json.Unmarshal(b, &old)
	delete(old, "data_sha256")
	b, _ = json.Marshal(old)
	os.WriteFile(filepath.Join(dir, experiment.SpecFile), b, 0o644)
	// Its runs' metrics.json say what they were trained on: other data
	// are refused (they were recorded as the experiment's data).
	if _, stderr, code := run(t, append([]string{"experiment", "--data", other, "--seeds", "0-2"}, small...)...); code != 2 || !strings.Contains(stderr, was[:12]+"… then") {
		t.Fatalf("other data on an earlier version's experiment: exit %d, stderr %q; want 2 naming the runs' data", code, stderr)
	}
	if _, stderr, code := run(t, append([]string{"experiment", "--data", data, "--seeds", "0-2"}, small...)...); code != 0 {
		t.Fatalf("an earlier version's experiment extended: exit %d: %s", code, stderr)
	}
	if s, err := experiment.ReadSpec(dir); err != nil || len(s.Data) != 1 || s.Data[0].SHA256 != was {
		t.Errorf("an earlier version's experiment: recorded %+v %v, want the data's SHA-256", s, err)
	}
}

// TestExperimentReportPastADamagedRun: a run whose metrics.json was damaged
// after it finished in a way the statistics do not read (a predicted
// class out of range) kept "experiment report" from placing every other
// run (exit 1); it is named in a warning, the others are placed.
func TestExperimentReportPastADamagedRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "exp")
	if _, stderr, code := run(t, "experiment", "--data", sharedData(t), "--seeds", "0-2", "--epochs", "1", "--train-samples", "200", "--test-samples", "50", "--hidden", "8", "-q", "--dir", dir); code != 0 {
		t.Fatalf("experiment: exit %d: %s", code, stderr)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, experiment.RunsDir, "*"))
	if len(runs) != 3 {
		t.Fatalf("%d runs, want 3", len(runs))
	}
	path := filepath.Join(runs[0], train.MetricsJSON)
	b, _ := os.ReadFile(path)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	preds, _ := m["test_predictions"].([]any)
	if len(preds) == 0 {
		t.Fatalf("no test_predictions in %s", path)
	}
	preds[0] = 99
	b, _ = json.Marshal(m)
	os.WriteFile(path, b, 0o644)
	for _, r := range runs[1:] {
		os.Remove(filepath.Join(r, report.PlaceFile))
	}
	_, stderr, code := run(t, "experiment", "report", dir)
	if code != 0 || !strings.Contains(stderr, "warning: run's report not redrawn: ") || !strings.Contains(stderr, runs[0]) {
		t.Errorf("experiment report: exit %d, stderr %q; want 0 and a warning naming %s", code, stderr, runs[0])
	}
	for _, r := range runs[1:] {
		if _, err := os.Stat(filepath.Join(r, report.PlaceFile)); err != nil {
			t.Errorf("run %s not placed: %v", r, err)
		}
	}
}

// TestDefaultDirKeepsItsSeeds: the default experiment directory is named
// without the seeds, so that more seeds extend the experiment (they named
// a new one, which trained every run again); a directory named with the
// seeds by an earlier version is still continued.
func TestDefaultDirKeepsItsSeeds(t *testing.T) {
	t.Chdir(t.TempDir())
	spec := func(seeds ...uint64) *experiment.Spec {
		return &experiment.Spec{Base: []experiment.Setting{{Name: "epochs", Value: "2"}}, Seeds: seeds}
	}
	two, three := defaultDir(spec(0, 1)), defaultDir(spec(0, 1, 2))
	if two != three || defaultDir(&experiment.Spec{Base: []experiment.Setting{{Name: "epochs", Value: "3"}}, Seeds: []uint64{0, 1}}) == two {
		t.Fatalf("directories %s and %s for the same settings with more seeds (and the same for other settings)", two, three)
	}
	// An earlier version's: the same settings' hash with the seeds.
	h := sha256.New()
	fmt.Fprintf(h, "%v|%v|%v", spec(0, 1).Base, spec(0, 1).Grid, spec(0, 1).Seeds)
	old := filepath.Join("experiments", hex.EncodeToString(h.Sum(nil))[:8])
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := defaultDir(spec(0, 1)); got != old {
		t.Errorf("with %s there, the default directory is %s", old, got)
	}
}

// TestExperimentCountsOneRun: a shard of an experiment of one run says
// "of its 1 run", not "1 runs".
func TestExperimentCountsOneRun(t *testing.T) {
	stdout, stderr, code := run(t, "experiment", "--seeds", "0", "--epochs", "1", "--dir", filepath.Join(t.TempDir(), "exp"), "--shard", "1/2")
	if code != 0 || !strings.Contains(stdout, "shard 1 of 2: 0 of its 1 run (") {
		t.Errorf("exit %d, stdout %q, stderr %q; want \"shard 1 of 2: 0 of its 1 run\"", code, stdout, stderr)
	}
}
