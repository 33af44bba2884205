package onnx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/cifarnet/cifarnet/cifar10"
	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/onnx/onnxpb"
	"github.com/cifarnet/cifarnet/onnx/onnxtest"
	"github.com/cifarnet/cifarnet/saving"
	"github.com/cifarnet/cifarnet/tensor"
)

// testImages loads the first n test images of the shared CIFAR-10 data.
func testImages(t *testing.T, n int) *dataset.Set {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", "shared", "cifar-10-batches-bin"))
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real data not found at %s", dir)
	}
	d, err := cifar10.Load(dir, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	return d.Test
}

// writeModel exports m with input in into a temporary file.
func writeModel(t *testing.T, m *nn.Sequential, c *saving.Config, in Input) (string, *onnxpb.ModelProto) {
	t.Helper()
	mp, err := Export(m, c, in)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Marshal(&buf, mp); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name, mp
}

func describe(arch nn.Architecture) *saving.Config {
	c := saving.Describe(arch, []int{cifar10.Height, cifar10.Width, cifar10.Channels}, cifar10.ClassNames[:], nil)
	return &c
}

// TestModelsInONNXRuntime exports a model with every activation cifarnet
// has, with both inputs, and runs it in ONNX Runtime on the first 1,000
// test images: the probabilities must agree with cifarnet's to 1e-5 and
// every predicted class must be the same. The file must pass the checker.
func TestModelsInONNXRuntime(t *testing.T) {
	const n = 1000
	set := testImages(t, n)
	x := set.Float32()
	e := tensor.NewEngine(1)
	defer e.Close()
	var runs []exportRun
	for i, act := range nn.ActivationNames() {
		arch := nn.Architecture{Inputs: cifar10.Features, Hidden: []int{64, 32}, Activation: act, Init: "he_normal", Classes: cifar10.NumClasses}
		m, err := nn.New(arch, uint64(100+i))
		if err != nil {
			t.Fatal(err)
		}
		if act == "exponential" {
			// exp of random he_normal layers feeds the next ones values in
			// the thousands and makes logits in the hundreds, where float32
			// rounding alone (any two implementations) moves probabilities
			// by 1e-4: smaller weights keep the model well conditioned.
			for _, l := range m.Layers[:len(m.Layers)-1] {
				for j, v := range l.(*nn.Dense).Kernel {
					l.(*nn.Dense).Kernel[j] = v / 4
				}
			}
		}
		want := make([]float32, n*arch.Classes)
		m.Predict(e, x, arch.Inputs, n, want)
		for _, in := range Inputs {
			file, _ := writeModel(t, m, describe(arch), in)
			runs = append(runs, exportRun{act + "/" + string(in), file, in, arch.Classes, want})
		}
	}
	for k, r := range runAll(t, runs, set) {
		c := runs[k]
		if fmt.Sprint(r.InputNames, r.OutputNames, r.Dims) != fmt.Sprint([]string{InputName}, []string{"dense_2"}, [][]int{{n, 10}}) {
			t.Errorf("%s: inputs %v, outputs %v, output dims %v", c.name, r.InputNames, r.OutputNames, r.Dims)
		}
		d := onnxtest.Compare(t, c.name, r.Outputs[0], c.want, c.classes, 1e-5)
		t.Logf("%s: largest difference %.3g (onnxruntime-node %s)", c.name, d, r.Version)
	}
}

// TestOtherImageShapes: the input shape comes from the model's
// description, here MNIST's 28x28x1 (random pixels, 5 classes).
func TestOtherImageShapes(t *testing.T) {
	const n = 200
	arch := nn.Architecture{Inputs: 28 * 28, Hidden: []int{16}, Activation: "tanh", Init: "glorot_uniform", Classes: 5}
	m, err := nn.New(arch, 3)
	if err != nil {
		t.Fatal(err)
	}
	pixels := make([]uint8, n*arch.Inputs)
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, len(pixels))
	for i := range pixels {
		pixels[i] = uint8(r.IntN(256))
		x[i] = float32(pixels[i]) / 255
	}
	e := tensor.NewEngine(1)
	defer e.Close()
	want := make([]float32, n*arch.Classes)
	m.Predict(e, x, arch.Inputs, n, want)
	c := saving.Describe(arch, []int{28, 28, 1}, []string{"a", "b", "c", "d", "e"}, nil)
	file, _ := writeModel(t, m, &c, Uint8)
	onnxtest.Check(t, file)
	res := onnxtest.Run(t, file, "uint8", []int{n, 28, 28, 1}, pixels)
	onnxtest.Compare(t, "28x28x1", res.Outputs[0], want, arch.Classes, 1e-5)
}

// exportRun is one exported model file and the probabilities cifarnet
// gives for the test images.
type exportRun struct {
	name, file string
	in         Input
	classes    int
	want       []float32
}

// runAll checks every file of runs with the ONNX checker and runs them in
// ONNX Runtime on the images of set (as pixels or features, by their
// input), returning their results in the order of runs.
func runAll(t *testing.T, runs []exportRun, set *dataset.Set) []onnxtest.Result {
	t.Helper()
	var files []string
	for _, r := range runs {
		files = append(files, r.file)
	}
	onnxtest.Check(t, files...)
	n := set.Len()
	results := map[Input][]onnxtest.Result{}
	for _, in := range Inputs {
		var models []string
		for _, c := range runs {
			if c.in == in {
				models = append(models, c.file)
			}
		}
		if len(models) == 0 {
			continue
		}
		if in == Uint8 {
			results[in] = onnxtest.RunAll(t, models, "uint8", []int{n, set.Height, set.Width, set.Channels}, set.Pixels)
		} else {
			results[in] = onnxtest.RunAll(t, models, "float32", []int{n, set.Features()}, set.Float32())
		}
	}
	out := make([]onnxtest.Result, len(runs))
	for k, c := range runs {
		out[k], results[c.in] = results[c.in][0], results[c.in][1:]
	}
	return out
}

// TestNamesFollowKeras: initializers carry the Keras weight names and
// shapes, every layer's output tensor its layer's name, the class names
// the metadata.
func TestNamesFollowKeras(t *testing.T) {
	arch := nn.Architecture{Inputs: 12, Hidden: []int{5, 4}, Activation: "relu", Init: "he_normal", Classes: 3}
	m, err := nn.New(arch, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := saving.Describe(arch, []int{2, 2, 3}, []string{"a", "b", "c"}, nil)
	mp, err := Export(m, &c, Uint8)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Marshal(&buf, mp); err != nil {
		t.Fatal(err)
	}
	var back onnxpb.ModelProto
	if err := proto.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.GetIrVersion() != 8 || back.GetOpsetImport()[0].GetVersion() != 17 {
		t.Errorf("IR %d opset %v", back.GetIrVersion(), back.GetOpsetImport())
	}
	inits := map[string][]int64{}
	for _, t := range back.GetGraph().GetInitializer() {
		inits[t.GetName()] = t.GetDims()
	}
	for _, p := range m.Params() {
		if fmt.Sprint(inits[p.Name]) != fmt.Sprint(p.Shape) {
			t.Errorf("initializer %s: dims %v, want %v", p.Name, inits[p.Name], p.Shape)
		}
	}
	outs := map[string]string{}
	for _, n := range back.GetGraph().GetNode() {
		outs[n.GetOutput()[0]] = n.GetOpType()
	}
	for name, op := range map[string]string{"dense": "Relu", "dense_1": "Relu", "dense_2": "Softmax", "preprocessing/flatten": "Flatten", "preprocessing/rescale": "Div"} {
		if outs[name] != op {
			t.Errorf("tensor %s is made by %q, want %s", name, outs[name], op)
		}
	}
	g := back.GetGraph()
	if g.GetInput()[0].GetName() != "input_layer" || g.GetOutput()[0].GetName() != "dense_2" {
		t.Errorf("input %s, output %s", g.GetInput()[0].GetName(), g.GetOutput()[0].GetName())
	}
	var names []string
	for _, p := range back.GetMetadataProps() {
		if p.GetKey() == "class_names" {
			json.Unmarshal([]byte(p.GetValue()), &names)
		}
	}
	if fmt.Sprint(names) != "[a b c]" {
		t.Errorf("class names in metadata: %v", names)
	}
}

// TestExportRefusesAMismatchedDescription: a description that does not
// fit the model is an error naming the field, not a broken file.
func TestExportRefusesAMismatchedDescription(t *testing.T) {
	arch := nn.Architecture{Inputs: 12, Hidden: []int{5}, Activation: "elu", Init: "he_normal", Classes: 3}
	m, err := nn.New(arch, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(c *saving.Config)
		in   Input
		want string
	}{
		{func(c *saving.Config) { c.Preprocessing.InputShape = []int{2, 2, 2} }, Uint8, "input_shape"},
		{func(c *saving.Config) { c.Preprocessing.InputShape = []int{12} }, Uint8, "input_shape"},
		{func(c *saving.Config) { c.Preprocessing.InputShape = []int{-2, -2, 3} }, Float32, "input_shape"},
		{func(c *saving.Config) { c.Preprocessing.Flatten = "channels_first" }, Uint8, "flatten"},
		{func(c *saving.Config) { c.Preprocessing.Scale = math.NaN() }, Uint8, "scale"},
		{func(c *saving.Config) { c.Preprocessing.Scale = 0 }, Uint8, "scale"},
		{func(c *saving.Config) { c.ClassNames = c.ClassNames[:2] }, Uint8, "class_names"},
		{func(c *saving.Config) {}, Input("int8"), "input"},
	} {
		c := saving.Describe(arch, []int{2, 2, 3}, []string{"a", "b", "c"}, nil)
		tc.edit(&c)
		_, err := Export(m, &c, tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error naming %s, got %v", tc.want, err)
		}
	}
	c := saving.Describe(arch, []int{2, 2, 3}, []string{"a", "b", "c"}, nil)
	// An output layer with an activation of its own: then the softmax.
	m.Layers[1].(*nn.Dense).Act, _ = nn.LookupActivation("relu")
	mp, err := Export(m, &c, Uint8)
	if err != nil {
		t.Fatal(err)
	}
	nodes := mp.GetGraph().GetNode()
	if len(nodes) < 2 || nodes[len(nodes)-2].GetOutput()[0] != "dense_1" || nodes[len(nodes)-2].GetOpType() != "Relu" ||
		nodes[len(nodes)-1].GetOpType() != "Softmax" || mp.GetGraph().GetOutput()[0].GetName() != "softmax" {
		t.Errorf("an output layer with relu: graph ends %v", nodes[len(nodes)-2:])
	}
}

// kerasActivations are Keras 3's activation formulas
// (keras/src/activations/activations.py), worked in float64.
var kerasActivations = map[string]func(x []float64) []float64{
	"linear":     each(func(x float64) float64 { return x }),
	"elu":        each(func(x float64) float64 { return elu(x, 1) }),
	"relu":       each(func(x float64) float64 { return max(x, 0) }),
	"relu6":      each(func(x float64) float64 { return min(max(x, 0), 6) }),
	"leaky_relu": each(func(x float64) float64 { return max(x, 0) + 0.2*min(x, 0) }),
	"tanh":       each(math.Tanh),
	"sigmoid":    each(sigmoid),
	"softplus":   each(softplus),
	"softsign":   each(func(x float64) float64 { return x / (math.Abs(x) + 1) }),
	"selu": each(func(x float64) float64 {
		return 1.0507009873554804934193349852946 * elu(x, 1.6732632423543772848170429916717)
	}),
	"exponential": each(math.Exp),
	"silu":        each(func(x float64) float64 { return x * sigmoid(x) }),
	"swish":       each(func(x float64) float64 { return x * sigmoid(x) }),
	"gelu":        each(func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }),
	"mish":        each(func(x float64) float64 { return x * math.Tanh(softplus(x)) }),
	"gelu_tanh": each(func(x float64) float64 {
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}),
	// relu6(x + 3) / 6 and x * relu6(x + 3) / 6.
	"hard_sigmoid": each(func(x float64) float64 { return min(max(x+3, 0), 6) / 6 }),
	"hard_silu":    each(func(x float64) float64 { return x * min(max(x+3, 0), 6) / 6 }),
	"hard_swish":   each(func(x float64) float64 { return x * min(max(x+3, 0), 6) / 6 }),
	"softmax": func(x []float64) []float64 {
		ls := logSoftmax(x)
		for i, v := range ls {
			ls[i] = math.Exp(v)
		}
		return ls
	},
	"log_softmax": logSoftmax,
}

func each(f func(float64) float64) func([]float64) []float64 {
	return func(x []float64) []float64 {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = f(v)
		}
		return y
	}
}

func elu(x, alpha float64) float64 {
	if x > 0 {
		return x
	}
	return alpha * math.Expm1(x)
}

func sigmoid(x float64) float64  { return 1 / (1 + math.Exp(-x)) }
func softplus(x float64) float64 { return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

func logSoftmax(x []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, v)
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - m)
	}
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v - m - math.Log(s)
	}
	return y
}

// TestActivationsMatchKerasFormulas runs every activation exporter alone in
// ONNX Runtime on values from -10 to 10 and compares it with Keras's
// formula in float64, so that activations not yet in cifarnet's nn are
// checked too.
func TestActivationsMatchKerasFormulas(t *testing.T) {
	var xs []float32
	for v := -10.0; v <= 10; v += 0.125 {
		xs = append(xs, float32(v))
	}
	xs = append(xs, 1e-4, -1e-4, 2.9999, -2.9999, 3.0001, -3.0001, 5.9999, 6.0001)
	x64 := make([]float64, len(xs))
	for i, v := range xs {
		x64[i] = float64(v)
	}
	// One graph computes every activation of the same input, each into an
	// output of its own name.
	b := &builder{names: map[string]bool{}}
	b.g.Input = []*onnxpb.ValueInfoProto{tensorInfo(b.name("x"), onnxpb.TensorProto_FLOAT, dimValue(len(xs)))}
	names := ActivationNames()
	for _, name := range names {
		out := activations[name](b, "x", name)
		b.g.Output = append(b.g.Output, tensorInfo(out, onnxpb.TensorProto_FLOAT, dimValue(len(xs))))
	}
	var buf bytes.Buffer
	if err := Marshal(&buf, b.model()); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "activations.onnx")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	onnxtest.Check(t, file)
	r := onnxtest.Run(t, file, "float32", []int{len(xs)}, xs)
	for k, name := range names {
		f, ok := kerasActivations[name]
		if !ok {
			t.Errorf("activation %s: the test has no Keras formula for it", name)
			continue
		}
		if r.OutputNames[k] != name {
			t.Fatalf("output %d is %s, want %s", k, r.OutputNames[k], name)
		}
		got, want := r.Outputs[k], f(x64)
		for i := range want {
			// float32 arithmetic: a few units in the last place, relative
			// to the value or to 1 near zero.
			if d := math.Abs(float64(got[i]) - want[i]); !(d <= 2e-6*max(1, math.Abs(want[i]))) {
				t.Errorf("%s(%g): ONNX Runtime %g, Keras's formula %g", name, xs[i], got[i], want[i])
			}
		}
	}
}
