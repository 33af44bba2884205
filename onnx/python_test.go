package onnx

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/cifar10"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/onnx/onnxtest"
	"github.com/cifarnet/cifarnet/tensor"
)

// TestPythonRecipe runs docs/onnx/predict.py on test images saved as 32x32
// PNG (no resampling: the pixels reach the model unchanged) with the
// model's computation done by ONNX Runtime (onnxtest.PythonRecipe): it
// must print cifarnet's three most probable classes with their
// probabilities, to the 4 decimals printed.
func TestPythonRecipe(t *testing.T) {
	const n = 4
	set := testImages(t, n)
	arch := nn.Architecture{Inputs: cifar10.Features, Hidden: []int{64, 32}, Activation: "elu", Init: "he_normal", Classes: cifar10.NumClasses}
	m, err := nn.New(arch, 11)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, n*arch.Classes)
	e := tensor.NewEngine(1)
	defer e.Close()
	m.Predict(e, set.Float32(), arch.Inputs, n, want)
	model, _ := writeModel(t, m, describe(arch), Uint8)
	args := []string{model}
	for i := range n {
		name := filepath.Join(t.TempDir(), fmt.Sprintf("img%d.png", i))
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, set.Image(i)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		args = append(args, name)
	}
	out := onnxtest.PythonRecipe(t, "../docs/onnx/predict.py", args...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != n {
		t.Fatalf("predict.py printed %q, want %d lines", out, n)
	}
	for i, line := range lines {
		p := want[i*arch.Classes : (i+1)*arch.Classes]
		order := make([]int, arch.Classes)
		for j := range order {
			order[j] = j
		}
		slices.SortStableFunc(order, func(a, b int) int {
			switch {
			case p[a] > p[b]:
				return -1
			case p[a] < p[b]:
				return 1
			}
			return 0
		})
		name, rest, _ := strings.Cut(line, ": ")
		if name != args[i+1] {
			t.Errorf("line %d names %s, want %s", i, name, args[i+1])
		}
		for k, item := range strings.Split(rest, ", ") {
			var class string
			var prob float64
			if _, err := fmt.Sscanf(item, "%s %f", &class, &prob); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			if c := order[k]; class != cifar10.ClassNames[c] || prob < float64(p[c])-6e-5 || prob > float64(p[c])+6e-5 {
				t.Errorf("image %d, place %d: printed %s %.4f, cifarnet %s %.6f", i, k, class, prob, cifar10.ClassNames[c], p[c])
			}
		}
	}
}
