// Package onnxtest runs exported models in ONNX Runtime for Node.js and
// through the ONNX checker of python3-onnx, for tests.
//
// ONNX Runtime is the npm package pinned in onnx/ort/package.json, installed
// with "cd onnx/ort && npm ci --ignore-scripts" (.ci/run does it). Where it,
// Node.js or python3-onnx is missing, the tests that need it are skipped,
// unless CIFARNET_REQUIRE_ONNX=1 (set by CI) makes that a failure.
package onnxtest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// RequireEnv, set to 1, turns a missing runtime into a test failure.
const RequireEnv = "CIFARNET_REQUIRE_ONNX"

// Python is the interpreter whose onnx package checks models.
const Python = "/usr/bin/python3"

func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s (%s=1)", msg, RequireEnv)
	}
	t.Skip(msg)
}

// ortDir is onnx/ort, found from this file's place in the source tree.
func ortDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "ort")
}

// Result is what run.js reports of a session and its outputs.
type Result struct {
	Version     string      `json:"version"`
	InputNames  []string    `json:"inputNames"`
	OutputNames []string    `json:"outputNames"`
	Types       []string    `json:"types"`
	Dims        [][]int     `json:"dims"`
	Outputs     [][]float32 // in OutputNames order
}

// nodeRuntime returns the node command and the directory of node_modules
// holding onnxruntime-node, or skips (fails where required) without them.
func nodeRuntime(t *testing.T) (node, modules string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node (Node.js) not found")
	}
	dir := ortDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		missing(t, "onnxruntime-node not installed: run 'npm ci --ignore-scripts' in %s", dir)
	}
	return node, filepath.Join(dir, "node_modules")
}

// Node runs a Node.js script with onnxruntime-node available to require
// and returns its standard output.
func Node(t *testing.T, script string, args ...string) string {
	t.Helper()
	node, modules := nodeRuntime(t)
	cmd := exec.Command(node, append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s %v: %v: %s", script, args, err, stderr.String())
	}
	return stdout.String()
}

// Run runs the model file in ONNX Runtime for Node.js on one input tensor
// of the given type ("uint8" or "float32"), dims and row-major data
// ([]uint8 or []float32), and returns its outputs (float32 only).
func Run(t *testing.T, model, typ string, dims []int, data any) Result {
	t.Helper()
	return RunAll(t, []string{model}, typ, dims, data)[0]
}

// RunAll is Run for several models on the same input, in one process.
func RunAll(t *testing.T, models []string, typ string, dims []int, data any) []Result {
	t.Helper()
	tmp := t.TempDir()
	in := filepath.Join(tmp, "in.bin")
	var raw []byte
	switch v := data.(type) {
	case []uint8:
		raw = v
	case []float32:
		raw = make([]byte, 4*len(v))
		for i, f := range v {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
		}
	default:
		t.Fatalf("onnxtest.Run: data of type %T", data)
	}
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	ds := make([]string, len(dims))
	for i, d := range dims {
		ds[i] = fmt.Sprint(d)
	}
	args := append([]string{in, typ, strings.Join(ds, ","), tmp}, models...)
	lines := strings.Split(strings.TrimSpace(Node(t, filepath.Join(ortDir(), "run.js"), args...)), "\n")
	if len(lines) != len(models) {
		t.Fatalf("run.js printed %d lines for %d models", len(lines), len(models))
	}
	rs := make([]Result, len(models))
	for k, line := range lines {
		r := &rs[k]
		if err := json.Unmarshal([]byte(line), r); err != nil {
			t.Fatalf("run.js printed %q: %v", line, err)
		}
		b, err := os.ReadFile(filepath.Join(tmp, fmt.Sprintf("%d.bin", k)))
		if err != nil {
			t.Fatal(err)
		}
		for i, typ := range r.Types {
			size := 1
			for _, d := range r.Dims[i] {
				size *= d
			}
			if typ != "float32" || 4*size > len(b) {
				t.Fatalf("%s: output %s: %s %v, %d bytes left: want float32", models[k], r.OutputNames[i], typ, r.Dims[i], len(b))
			}
			o := make([]float32, size)
			for j := range o {
				o[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
			}
			r.Outputs, b = append(r.Outputs, o), b[4*size:]
		}
		if len(b) != 0 {
			t.Fatalf("%s: %d bytes after the outputs", models[k], len(b))
		}
	}
	return rs
}

// Check runs onnx.checker.check_model (with full_check: shape inference
// too) of python3-onnx on the model files.
func Check(t *testing.T, models ...string) {
	t.Helper()
	if err := exec.Command(Python, "-c", "import onnx").Run(); err != nil {
		missing(t, "%s cannot import onnx (Debian: python3-onnx)", Python)
	}
	script := `import sys, onnx
for name in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(name), full_check=True)
    except Exception as e:
        sys.exit("%s: %s" % (name, e))
`
	if out, err := exec.Command(Python, append([]string{"-c", script}, models...)...).CombinedOutput(); err != nil {
		t.Fatalf("onnx.checker: %v: %s", err, out)
	}
}

// Compare asserts that got and want, rows of classes probabilities, agree
// to tol and have the same most probable class in every row; it returns the
// largest difference.
func Compare(t *testing.T, what string, got, want []float32, classes int, tol float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, bad := 0.0, 0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if !(d <= tol) {
			if bad < 3 {
				t.Errorf("%s: row %d class %d: ONNX Runtime %g, cifarnet %g", what, i/classes, i%classes, got[i], want[i])
			}
			bad++
		}
		if !(d <= worst) {
			worst = d
		}
	}
	for r := 0; r < len(got); r += classes {
		if a, b := Argmax(got[r:r+classes]), Argmax(want[r:r+classes]); a != b {
			t.Errorf("%s: row %d: ONNX Runtime predicts class %d, cifarnet %d", what, r/classes, a, b)
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d probabilities differ by more than %g (largest %g)", what, bad, len(got), tol, worst)
	}
	return worst
}

// Argmax returns the index of the largest value of v (the first of equals).
func Argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// WebDist returns the directory of onnxruntime-web's dist files (ort.min.js
// and its WebAssembly), or skips (fails where required) without it.
func WebDist(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(ortDir(), "node_modules", "onnxruntime-web", "dist")
	if _, err := os.Stat(filepath.Join(dir, "ort.min.js")); err != nil {
		missing(t, "onnxruntime-web not installed: run 'npm ci --ignore-scripts' in %s", ortDir())
	}
	return dir
}

// PackageVersion returns the version of an npm package pinned in
// onnx/ort/package.json.
func PackageVersion(t *testing.T, pkg string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ortDir(), "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct{ Dependencies map[string]string }
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p.Dependencies[pkg]
}

// Chromium returns the path of headless Chromium, or skips (fails where
// required) without it.
func Chromium(t *testing.T) string {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		missing(t, "chromium not installed (Debian package chromium)")
	}
	return browser
}

// PythonRecipe runs a Python script of docs/onnx with /usr/bin/python3,
// its "import onnxruntime" answered by pyshim (onnxruntime-node doing the
// computation: the Python package cannot be installed here), and returns
// its standard output. It needs python3-onnx, python3-pil and numpy.
func PythonRecipe(t *testing.T, script string, args ...string) string {
	t.Helper()
	nodeRuntime(t)
	if err := exec.Command(Python, "-c", "import onnx, numpy, PIL").Run(); err != nil {
		missing(t, "%s cannot import onnx, numpy and PIL (Debian: python3-onnx, python3-numpy, python3-pil)", Python)
	}
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command(Python, append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(filepath.Dir(file), "pyshim"))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("python3 %s %v: %v: %s", script, args, err, stderr.String())
	}
	return stdout.String()
}
