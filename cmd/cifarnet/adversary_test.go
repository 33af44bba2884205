package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSlurmScriptRefusesHostileValues: every value written into the sbatch
// script is either in Slurm's form or refused (exit 2, one line, no
// script): a newline in --mem used to become a shell line of the script.
func TestSlurmScriptRefusesHostileValues(t *testing.T) {
	base := t.TempDir()
	pwned := filepath.Join(base, "pwned")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"mem newline", []string{"--mem", "2G\ntouch " + pwned}, "--mem"},
		{"mem empty", []string{"--mem", ""}, "--mem"},
		{"mem unit", []string{"--mem", "2GB"}, "--mem"},
		{"time shell", []string{"--time", "1:00:00;touch " + pwned}, "--time"},
		{"time words", []string{"--time", "soon"}, "--time"},
		{"partition space", []string{"--partition", "a b"}, "--partition"},
		{"partition newline", []string{"--partition", "gpu\ntouch " + pwned}, "--partition"},
		{"cpus huge", []string{"--cpus-per-task", "100000000"}, "--cpus-per-task"},
		{"dir newline", []string{"--dir", filepath.Join(base, "a\ntouch "+pwned)}, "--dir"},
		{"dir percent", []string{"--dir", filepath.Join(base, "a%j")}, "--dir"},
		{"dir backslash", []string{"--dir", filepath.Join(base, `a\b`)}, "--dir"},
		{"binary newline", []string{"--binary", "/bin/true\ntouch " + pwned}, "--binary"},
		{"data newline", []string{"--data", filepath.Join(base, "d\ntouch "+pwned)}, "--data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"experiment", "slurm", "--seeds", "0-3", "--shards", "2", "--dir", filepath.Join(base, c.name)}
			_, stderr, code := runLimited(t, time.Minute, append(args, c.args...)...)
			if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want exit 2 and one line naming %s", code, stderr, c.want)
			}
			matches, _ := filepath.Glob(filepath.Join(base, "*", SlurmScript))
			if len(matches) > 0 {
				t.Errorf("a script was written: %v", matches)
			}
		})
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Error("a refused value ran a command")
	}
}

// TestSlurmScriptQuotesPaths: paths with spaces, quotes and shell
// metacharacters reach the program as one argument each, both in the
// script's shell lines (run here by bash, with a stand-in for cifarnet)
// and in its #SBATCH --output line as sbatch parses it.
func TestSlurmScriptQuotesPaths(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	base := t.TempDir()
	pwned := filepath.Join(base, "pwned")
	dir := filepath.Join(base, `exp 1 '"#$(touch `+pwned+`)`+"`touch "+pwned+"`;&|<>*?")
	bindir := filepath.Join(base, "bin $x 'q'")
	if err := os.MkdirAll(bindir, 0o755); err != nil {
		t.Fatal(err)
	}
	argsFile := filepath.Join(base, "args")
	fake := filepath.Join(bindir, "cifar net")
	// The stand-in records its working directory and arguments, one a line.
	if err := os.WriteFile(fake, []byte("#!/bin/bash\n{ pwd; printf '%s\\n' \"$@\"; } > \"$ARGS_FILE\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runLimited(t, time.Minute, "experiment", "slurm", "--seeds", "0-3", "--shards", "2",
		"--dir", dir, "--binary", fake, "--partition", "gpu,cpu", "--time", "2-00:30:00", "--mem", "512M")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	script := filepath.Join(dir, SlurmScript)
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), "ARGS_FILE="+argsFile, "SLURM_ARRAY_TASK_ID=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bash %s: %v: %s", script, err, out)
	}
	got, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	want := []string{"experiment", "--dir", dir, "--shard", "1/2", "--quiet"}
	if len(lines) != len(want)+1 || !slices.Equal(lines[1:], want) {
		t.Errorf("the script ran cifarnet with %q, want %q", lines[1:], want)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Error("a path in the script ran a command")
	}
	var output []string
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "#SBATCH "); ok {
			output = append(output, sbatchArguments(rest)...)
		}
	}
	for _, w := range []string{"--output=" + dir + "/slurm/%A_%a.out", "--partition=gpu,cpu", "--time=2-00:30:00", "--mem=512M"} {
		if !slices.Contains(output, w) {
			t.Errorf("sbatch would read the #SBATCH lines as %q, without %q", output, w)
		}
	}
}

// sbatchArguments splits an #SBATCH line's rest as sbatch does (Slurm's
// src/sbatch/opt.c, _get_argument): whitespace separates arguments,
// single or double quotes group, a backslash escapes the next character
// (inside quotes too), and an unquoted '#' ends the line.
func sbatchArguments(line string) []string {
	var args []string
	var cur bytes.Buffer
	in, have, escape := byte(0), false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case escape:
			escape = false
			cur.WriteByte(c)
		case c == '\\':
			escape, have = true, true
		case in != 0 && c == in:
			in = 0
		case in != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			in, have = c, true
		case c == '#':
			i = len(line)
		case c == ' ' || c == '\t':
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

// TestLargestExperimentPlans: an experiment of 100000 runs is planned (and
// its Slurm script written) in seconds, and one of more is refused at
// once; planning 100000 seeds used to take minutes (every seed compared
// with every other, every run validated).
func TestLargestExperimentPlans(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "exp")
	_, stderr, code := runLimited(t, 2*time.Minute, "experiment", "slurm", "--seeds", "0-49999",
		"--grid", "activation=elu,relu", "--shards", "4", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, stderr, code = runLimited(t, time.Minute, "experiment", "--seeds", "0-999999999", "--dir", dir+"2")
	if code != 2 || !strings.Contains(stderr, "more than 100000 seeds") {
		t.Errorf("a billion seeds: exit %d, %q", code, stderr)
	}
	_, stderr, code = runLimited(t, time.Minute, "experiment", "--seeds", "0-50000", "--grid", "activation=elu,relu", "--dir", dir+"3")
	if code != 2 || !strings.Contains(stderr, "more than 100000 runs") {
		t.Errorf("100002 runs: exit %d, %q", code, stderr)
	}
}

// TestModelFileSpecialFiles: a FIFO given as a Keras model file, or as a
// run's experiment place file, is refused at once; both blocked forever.
func TestModelFileSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := mkfifo(t, filepath.Join(dir, "model.json"))
	for _, args := range [][]string{{"summary", "--model", fifo}, {"train", "--model", fifo, "--out", filepath.Join(dir, "r")}} {
		_, stderr, code := runLimited(t, time.Minute, args...)
		if code != 2 || !strings.Contains(stderr, "named pipe") {
			t.Errorf("%v: exit %d, %q", args, code, stderr)
		}
	}
}

// TestHostileKerasModels: Keras model files crafted against the reader
// are refused before training, in one line naming the layer or field:
// duplicate layer names trained to the end and then failed to save the
// model; a schedule of a million boundaries took seconds and hundreds of
// megabytes per run.
func TestHostileKerasModels(t *testing.T) {
	dir := t.TempDir()
	layer := func(name string, units int, act string) string {
		return `{"class_name": "Dense", "config": {"name": "` + name + `", "units": ` + strconv.Itoa(units) + `, "activation": "` + act + `"}}`
	}
	model := func(layers, compile string) string {
		s := `{"class_name": "Sequential", "config": {"name": "s", "layers": [` +
			`{"class_name": "InputLayer", "config": {"batch_shape": [null, 3072], "name": "in"}}, ` + layers + `]}`
		if compile != "" {
			s += `, "compile_config": ` + compile
		}
		return s + "}"
	}
	piecewise := func(n int) string {
		b := make([]string, n)
		v := make([]string, n+1)
		for i := range b {
			b[i], v[i] = strconv.Itoa(i+1), "0.001"
		}
		v[n] = "0.001"
		return `{"optimizer": {"class_name": "SGD", "config": {"learning_rate": {"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [` +
			strings.Join(b, ",") + `], "values": [` + strings.Join(v, ",") + `]}}}}}`
	}
	for _, c := range []struct{ name, text, want string }{
		{"duplicate names", model(layer("d", 8, "relu")+", "+layer("d", 10, "softmax"), ""), `layer "d": two layers have this name`},
		{"slash in a name", model(layer("d/kernel", 8, "relu")+", "+layer("e", 10, "softmax"), ""), "without '/'"},
		{"escape in a name", model(layer(`d\u001b]0;x\u0007`, 8, "relu")+", "+layer("e", 10, "softmax"), ""), "control characters"},
		{"million boundaries", model(layer("d", 10, "softmax"), piecewise(1000000)), "1000000 boundaries: at most 10000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".json")
			os.WriteFile(path, []byte(c.text), 0o644)
			for _, args := range [][]string{{"summary", "--model", path}, {"train", "--model", path, "--data", dir, "--out", path + ".run"}} {
				_, stderr, code := runLimited(t, time.Minute, args...)
				if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 || len(stderr) > 400 {
					t.Errorf("%s: exit %d, stderr %.400q; want exit 2 and one short line containing %q", args[0], code, stderr, c.want)
				}
			}
		})
	}
}

// TestPredictUsesTheDataSetsShape: a model.json whose input shape has the
// network's size but not its data set's layout (96x32 gray for CIFAR-10's
// 32x32 RGB) is refused by predict and export, which used to feed the
// network images prepared in a layout it never saw.
func TestPredictUsesTheDataSetsShape(t *testing.T) {
	data := sharedData(t)
	dir := t.TempDir()
	rd := filepath.Join(dir, "run")
	if _, stderr, code := run(t, "train", "--data", data, "--epochs", "1", "--train-samples", "100", "--test-samples", "20",
		"--hidden", "8", "--out", rd, "-q"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	name := filepath.Join(rd, "model.json")
	b, _ := os.ReadFile(name)
	shape := regexp.MustCompile(`"input_shape": \[\s*32,\s*32,\s*3\s*\]`)
	if !shape.Match(b) {
		t.Fatalf("no input_shape [32, 32, 3] in %s", name)
	}
	os.WriteFile(name, shape.ReplaceAll(b, []byte(`"input_shape": [96, 32, 1]`)), 0o644)
	img := filepath.Join(rd, "samples.png")
	for _, args := range [][]string{{"predict", "--model", rd, img}, {"export", rd, "--out", filepath.Join(dir, "m.onnx")}} {
		_, stderr, code := run(t, args...)
		if code == 0 || !strings.Contains(stderr, "input_shape [96 32 1], but CIFAR-10's images are 32x32x3") {
			t.Errorf("%s: exit %d, %q", args[0], code, stderr)
		}
	}
}

// linkedData is a fresh directory of symbolic links to the shared data's
// files: a test that hands it to a command that might delete it risks
// only the links, never the shared data.
func linkedData(t *testing.T) string {
	t.Helper()
	shared := sharedData(t)
	dir := filepath.Join(t.TempDir(), "data")
	os.Mkdir(dir, 0o755)
	es, _ := os.ReadDir(shared)
	for _, e := range es {
		if err := os.Symlink(filepath.Join(shared, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestOutNeverReplacesOthersFiles: lr-find --out used to replace whatever
// directory it named, files of the user's and the data set itself
// ("lr-find --data D --out D" deleted D's batches); train --overwrite
// --out D did the same at the end of its run. Both are refused, exit 2,
// and every file stays; lr-find still replaces its own earlier output.
// (The fix landed separately in 1de9488; this is the adversary's test of
// the class, on a directory of links so that a failure never touches the
// shared data.)
func TestOutNeverReplacesOthersFiles(t *testing.T) {
	data := linkedData(t)
	base := filepath.Dir(data)
	user := filepath.Join(base, "user")
	os.Mkdir(user, 0o755)
	os.WriteFile(filepath.Join(user, "mine.txt"), []byte("mine"), 0o644)
	lr := []string{"lr-find", "--data", data, "--train-samples", "200", "--hidden", "8"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{append(lr, "--out", data), "is or holds the data"},
		{append(lr, "--out", base), "is or holds the data"},
		{append(lr, "--out", user), "(mine.txt)"},
		{[]string{"train", "--data", data, "--out", data, "--overwrite", "--epochs", "1", "--train-samples", "200", "--hidden", "8"}, "is or holds the data"},
		{[]string{"train", "--data", data, "--out", base, "--overwrite", "--epochs", "1", "--train-samples", "200", "--hidden", "8"}, "is or holds the data"},
	} {
		_, stderr, code := runLimited(t, 2*time.Minute, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s --out %s: exit %d, %q; want exit 2 and %q", c.args[0], c.args[len(c.args)-1], code, stderr, c.want)
		}
	}
	for _, f := range []string{filepath.Join(data, "data_batch_1.bin"), filepath.Join(data, "test_batch.bin"), filepath.Join(user, "mine.txt")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s was lost: %v", f, err)
		}
	}
	out := filepath.Join(base, "lr")
	for i, again := range [][]string{nil, {"--overwrite"}} { // the second replaces the first's files
		if _, stderr, code := runLimited(t, 2*time.Minute, append(append(lr, "--out", out), again...)...); code != 0 {
			t.Fatalf("lr-find into its own directory (%d): exit %d: %s", i, code, stderr)
		}
	}
}
