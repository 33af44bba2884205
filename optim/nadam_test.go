package optim

import (
	"math"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
)

// TestNadamThreeSteps applies three steps with known gradients and compares
// with the Keras 3 formula worked out independently in float64:
//
//	u_t = 0.9 (1 - 0.5·0.96^t),  Πu runs over u_1..u_t
//	m_t = 0.9 m + 0.1 g,  v_t = 0.999 v + 0.001 g²
//	m̂ = u_{t+1} m_t / (1 - Πu_{..t} u_{t+1}) + (1 - u_t) g / (1 - Πu_{..t})
//	w -= lr m̂ / (sqrt(v_t / (1 - 0.999^t)) + 1e-7)
func TestNadamThreeSteps(t *testing.T) {
	w := []float32{0.5, -1.25, 2}
	grads := [][]float32{{0.1, -0.2, 0.3}, {-0.05, 0.4, 0.0}, {0.2, 0.2, -1}}
	g := make([]float32, 3)
	params := []nn.Param{{Name: "w", Value: w, Grad: g}}
	o := NewNadam(0.001)
	e := tensor.NewEngine(1)
	defer e.Close()

	want := []float64{0.5, -1.25, 2}
	m := make([]float64, 3)
	v := make([]float64, 3)
	u := func(t float64) float64 { return 0.9 * (1 - 0.5*math.Pow(0.96, t)) }
	prod := 1.0
	for step, gs := range grads {
		copy(g, gs)
		o.Step(e, params)

		tt := float64(step + 1)
		prod *= u(tt)
		for i := range want {
			gi := float64(gs[i])
			m[i] = 0.9*m[i] + 0.1*gi
			v[i] = 0.999*v[i] + 0.001*gi*gi
			mHat := u(tt+1)*m[i]/(1-prod*u(tt+1)) + (1-u(tt))*gi/(1-prod)
			vHat := v[i] / (1 - math.Pow(0.999, tt))
			want[i] -= 0.001 * mHat / (math.Sqrt(vHat) + 1e-7)
		}
		for i := range w {
			if math.Abs(float64(w[i])-want[i]) > 1e-6 {
				t.Fatalf("step %d: w[%d] = %.9f, want %.9f", step+1, i, w[i], want[i])
			}
		}
	}
	// The first Nadam step moves each weight by about lr against the gradient sign.
	if o.Iterations() != 3 {
		t.Fatalf("iterations %d", o.Iterations())
	}
}

func TestAdamFirstStep(t *testing.T) {
	// Adam's first step is lr·g/(|g| + eps·...) ≈ lr·sign(g).
	w := []float32{1, 1}
	p := []nn.Param{{Value: w, Grad: []float32{0.5, -2}}}
	NewAdam(0.01).Step(nil, p)
	if math.Abs(float64(w[0])-0.99) > 1e-6 || math.Abs(float64(w[1])-1.01) > 1e-6 {
		t.Fatalf("after one step w = %v, want [0.99 1.01]", w)
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := New("rmsprop?", 0.1); err == nil {
		t.Error("unknown optimizer accepted")
	}
	if _, err := New("nadam", 0); err == nil {
		t.Error("zero learning rate accepted")
	}
}
