package train

import (
	"testing"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/tensor"
)

// TestNoAllocationPerStep: a training step of the exercise's network
// (gather, forward, loss, backward, Nadam) allocates nothing once warm.
func TestNoAllocationPerStep(t *testing.T) {
	arch := Exercise().Architecture()
	m, _ := nn.New(arch, 1)
	e := tensor.NewEngine(2)
	defer e.Close()
	opt := optim.NewNadam(0.001)
	ldx := tensor.PaddedStride(arch.Inputs)
	data := make([]float32, 300*arch.Inputs)
	x := make([]float32, 128*ldx)
	y := make([]int32, 128)
	idx := make([]int, 128)
	for i := range idx {
		idx[i] = (i * 7) % 300
	}
	grad := make([]float32, 128*arch.Classes)
	params := m.Params()
	step := func() {
		e.Gather(x, ldx, data, arch.Inputs, idx)
		logits := m.Forward(e, x, ldx, 128, true)
		nn.SparseCategoricalCrossentropy(logits, y, arch.Classes, grad)
		m.Backward(e, grad, 128)
		opt.Step(e, params)
	}
	step()
	if n := testing.AllocsPerRun(10, step); n != 0 {
		t.Fatalf("%v allocations per training step, want 0", n)
	}
}
