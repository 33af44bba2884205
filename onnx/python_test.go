package onnx

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/cifar10"
	"github.com/cifarnet/cifarnet/onnx/onnxtest"
)

// TestPythonRecipe runs docs/onnx/predict.py on test images saved as 32x32
// PNG (no resampling: the pixels reach the model unchanged) with the
// model's computation done by ONNX Runtime (onnxtest.PythonRecipe): it
// must print cifarnet's three most probable classes with their
// probabilities, to the 4 decimals printed.
func TestPythonRecipe(t *testing.T) {
	const n = 4
	model, want, images := imageFixture(t, n, 11)
	args := append([]string{model}, images...)
	out := onnxtest.PythonRecipe(t, "../docs/onnx/predict.py", args...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != n {
		t.Fatalf("predict.py printed %q, want %d lines", out, n)
	}
	for i, line := range lines {
		p := want[i*cifarArch.Classes : (i+1)*cifarArch.Classes]
		order := make([]int, cifarArch.Classes)
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
