package nn

import (
	"testing"

	"github.com/cifarnet/cifarnet/tensor"
)

// countUpdates is an Updater that counts the elements stepped per parameter.
type countUpdates map[int]int

func (c countUpdates) Update(k, lo, hi int, _ []float32) { c[k] += hi - lo }

// TestBackwardUpdateFollowsLayers: BackwardUpdate steps every element of
// every parameter once, by its index in Params, also after Layers is
// replaced by as many layers with other parameters (Dense layers without
// biases), and allocates nothing once it has indexed the layers.
func TestBackwardUpdateFollowsLayers(t *testing.T) {
	act, _ := LookupActivation("relu")
	lin, _ := LookupActivation("linear")
	build := func(bias bool) *Sequential {
		h, o := NewDense("h", 4, act, nil), NewDense("o", 3, lin, nil)
		h.UseBias, o.UseBias = bias, bias
		m, err := NewSequential(5, 1, h, o)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	e := tensor.NewEngine(1)
	defer e.Close()
	x := make([]float32, 2*5)
	m := build(true)
	for _, bias := range []bool{true, false} {
		if !bias {
			m.Layers = build(false).Layers
		}
		m.Forward(e, x, 5, 2, true)
		c := countUpdates{}
		for _, l := range m.Layers {
			clear(l.(*Dense).DKernel)
			l.(*Dense).DKernel[0] = 7
		}
		m.BackwardUpdate(e, make([]float32, 2*3), 2, c)
		// The kernels' gradients went from scratch blocks to the step,
		// never stored.
		for _, l := range m.Layers {
			if d := l.(*Dense); d.DKernel[0] != 7 {
				t.Errorf("biases %v: %s's kernel gradient was stored (%v)", bias, d.Name(), d.DKernel[:2])
			}
		}
		ps := m.Params()
		for k, p := range ps {
			if c[k] != len(p.Value) {
				t.Errorf("biases %v: parameter %d (%s): %d elements stepped, want %d (all: %v)", bias, k, p.Name, c[k], len(p.Value), c)
			}
		}
		if len(c) != len(ps) {
			t.Errorf("biases %v: %d parameters stepped, want %d", bias, len(c), len(ps))
		}
	}
	g := make([]float32, 2*3)
	var u Updater = countUpdates{}
	if n := testing.AllocsPerRun(10, func() { m.BackwardUpdate(e, g, 2, u) }); n != 0 {
		t.Errorf("%v allocations per BackwardUpdate, want 0", n)
	}
}
