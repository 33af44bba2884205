package optim

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
)

// reference is one Keras 3 optimizer worked independently in float64 from
// its keras/src/optimizers/*.py, base options included.
type reference struct {
	name string
	args Args
	// s holds the per-element state by name; sc the scalar state.
	s  map[string][]float64
	sc map[string]float64
	t  int // iterations
}

func (r *reference) f(key string, def float64) float64 {
	if v, ok := r.args[key]; ok {
		switch x := v.(type) {
		case float64:
			return x
		case int:
			return float64(x)
		}
	}
	return def
}

func (r *reference) b(key string) bool { v, _ := r.args[key].(bool); return v }

func (r *reference) st(name string, n int, init float64) []float64 {
	if r.s == nil {
		r.s, r.sc = map[string][]float64{}, map[string]float64{"u_product": 1}
	}
	if r.s[name] == nil {
		r.s[name] = make([]float64, n)
		for i := range r.s[name] {
			r.s[name][i] = init
		}
	}
	return r.s[name]
}

func norm(g []float64) float64 {
	var s float64
	for _, x := range g {
		s += x * x
	}
	return math.Sqrt(s)
}

// step applies one step to a single parameter vector w with gradient g.
func (r *reference) step(w, g []float64, lr float64) {
	n := len(w)
	g = append([]float64(nil), g...)
	// _clip_gradients (one parameter: global and per-tensor norms agree).
	if c := r.f("clipnorm", 0) + r.f("global_clipnorm", 0); c > 0 {
		if l := norm(g); l > 0 {
			for i := range g {
				g[i] = g[i] * c / math.Max(l, c)
			}
		}
	} else if v := r.f("clipvalue", 0); v > 0 {
		for i := range g {
			g[i] = math.Max(-v, math.Min(v, g[i]))
		}
	}
	wd := r.f("weight_decay", 0)
	if r.name == "adamw" {
		wd = r.f("weight_decay", 0.004)
	}
	for i := range w {
		w[i] -= w[i] * wd * lr
	}
	t := float64(r.t + 1)
	switch r.name {
	case "sgd":
		mom := r.f("momentum", 0)
		if mom == 0 {
			for i := range w {
				w[i] -= lr * g[i]
			}
			break
		}
		m := r.st("m", n, 0)
		for i := range w {
			m[i] = mom*m[i] - lr*g[i]
			if r.b("nesterov") {
				w[i] += mom*m[i] - lr*g[i]
			} else {
				w[i] += m[i]
			}
		}
	case "rmsprop":
		rho, mom, eps := r.f("rho", 0.9), r.f("momentum", 0), r.f("epsilon", 1e-7)
		v, a, b := r.st("v", n, 0), r.st("a", n, 0), r.st("b", n, 0)
		for i := range w {
			v[i] = rho*v[i] + (1-rho)*g[i]*g[i]
			d := v[i] + eps
			if r.b("centered") {
				a[i] = rho*a[i] + (1-rho)*g[i]
				d = v[i] - a[i]*a[i] + eps
			}
			inc := lr * g[i] / math.Sqrt(d)
			if mom > 0 {
				b[i] = mom*b[i] + inc
				inc = b[i]
			}
			w[i] -= inc
		}
	case "adagrad":
		a, eps := r.st("a", n, r.f("initial_accumulator_value", 0.1)), r.f("epsilon", 1e-7)
		for i := range w {
			a[i] += g[i] * g[i]
			w[i] -= lr * g[i] / math.Sqrt(a[i]+eps)
		}
	case "adadelta":
		rho, eps := r.f("rho", 0.95), r.f("epsilon", 1e-7)
		G, D := r.st("G", n, 0), r.st("D", n, 0)
		for i := range w {
			G[i] = rho*G[i] + (1-rho)*g[i]*g[i]
			dw := -math.Sqrt(D[i]+eps) * g[i] / math.Sqrt(G[i]+eps)
			D[i] = rho*D[i] + (1-rho)*dw*dw
			w[i] += lr * dw
		}
	case "adam", "adamw":
		b1, b2, eps := r.f("beta_1", 0.9), r.f("beta_2", 0.999), r.f("epsilon", 1e-7)
		m, v, vh := r.st("m", n, 0), r.st("v", n, 0), r.st("vh", n, 0)
		alpha := lr * math.Sqrt(1-math.Pow(b2, t)) / (1 - math.Pow(b1, t))
		for i := range w {
			m[i] = b1*m[i] + (1-b1)*g[i]
			v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
			vv := v[i]
			if r.b("amsgrad") {
				vh[i] = math.Max(vh[i], v[i])
				vv = vh[i]
			}
			w[i] -= m[i] * alpha / (math.Sqrt(vv) + eps)
		}
	case "adamax":
		b1, b2, eps := r.f("beta_1", 0.9), r.f("beta_2", 0.999), r.f("epsilon", 1e-7)
		m, u := r.st("m", n, 0), r.st("u", n, 0)
		for i := range w {
			m[i] = b1*m[i] + (1-b1)*g[i]
			u[i] = math.Max(b2*u[i], math.Abs(g[i]))
			w[i] -= lr * m[i] / ((1 - math.Pow(b1, t)) * (u[i] + eps))
		}
	case "nadam":
		b1, b2, eps := r.f("beta_1", 0.9), r.f("beta_2", 0.999), r.f("epsilon", 1e-7)
		m, v := r.st("m", n, 0), r.st("v", n, 0)
		u := func(t float64) float64 { return b1 * (1 - 0.5*math.Pow(0.96, t)) }
		r.sc["u_product"] *= u(t)
		p := r.sc["u_product"]
		for i := range w {
			m[i] = b1*m[i] + (1-b1)*g[i]
			v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
			mHat := u(t+1)*m[i]/(1-p*u(t+1)) + (1-u(t))*g[i]/(1-p)
			vHat := v[i] / (1 - math.Pow(b2, t))
			w[i] -= lr * mHat / (math.Sqrt(vHat) + eps)
		}
	case "lion":
		b1, b2 := r.f("beta_1", 0.9), r.f("beta_2", 0.99)
		m := r.st("m", n, 0)
		for i := range w {
			c := b1*m[i] + (1-b1)*g[i]
			if c > 0 {
				w[i] -= lr
			} else if c < 0 {
				w[i] += lr
			}
			m[i] = b2*m[i] + (1-b2)*g[i]
		}
	default:
		panic(r.name)
	}
	if r.b("use_ema") {
		avg := r.st("average", n, 0)
		em := r.f("ema_momentum", 0.99)
		if r.t == 0 {
			em = 0
		}
		for i := range w {
			avg[i] = em*avg[i] + (1-em)*w[i]
		}
		if f := int(r.f("ema_overwrite_frequency", 0)); f > 0 && (r.t+1)%f == 0 {
			copy(w, avg)
		}
	}
	r.t++
}

// TestOptimizersAgainstKerasFormulas: every optimizer, with every base
// option on and off, several steps on a small vector with chosen gradients,
// against its Keras formula in float64.
func TestOptimizersAgainstKerasFormulas(t *testing.T) {
	rules := []struct {
		name string
		args []Args
	}{
		{"sgd", []Args{nil, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": true}}},
		{"rmsprop", []Args{nil, {"rho": 0.8}, {"momentum": 0.5}, {"centered": true}, {"centered": true, "momentum": 0.3, "epsilon": 1e-3}}},
		{"adagrad", []Args{nil, {"initial_accumulator_value": 0.5, "epsilon": 1e-4}}},
		{"adadelta", []Args{nil, {"rho": 0.5, "epsilon": 1e-3}}},
		{"adam", []Args{nil, {"amsgrad": true}, {"beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}}},
		{"adamw", []Args{nil, {"weight_decay": 0.1, "amsgrad": true}}},
		{"adamax", []Args{nil, {"beta_1": 0.8, "beta_2": 0.5, "epsilon": 1e-3}}},
		{"nadam", []Args{nil, {"beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-3}}},
		{"lion", []Args{nil, {"beta_1": 0.5, "beta_2": 0.9}}},
	}
	options := []Args{
		nil,
		{"weight_decay": 0.05},
		{"clipnorm": 0.3},
		{"global_clipnorm": 0.3},
		{"clipvalue": 0.15},
		{"use_ema": true},
		{"use_ema": true, "ema_momentum": 0.5, "ema_overwrite_frequency": 2},
	}
	// Gradients with a zero, signs both ways, and one step whose norm is
	// below the clip norms.
	grads := [][]float64{{0.1, -0.2, 0.3, 0}, {-0.05, 0.4, 0, 0.2}, {0.2, 0.2, -1, 0.5}, {0.01, -0.02, 0.03, 0.01}, {-0.3, 0.1, 0.2, -0.4}}
	e := tensor.NewEngine(2)
	defer e.Close()
	for _, rule := range rules {
		for _, ra := range rule.args {
			for _, oa := range options {
				args := Args{}
				for k, v := range ra {
					args[k] = v
				}
				for k, v := range oa {
					args[k] = v
				}
				const lr = 0.01
				o, err := Build(rule.name, Constant(lr), args)
				if err != nil {
					t.Fatalf("%s %v: %v", rule.name, args, err)
				}
				ref := &reference{name: rule.name, args: args}
				w := []float32{0.5, -1.25, 2, 0.75}
				want := []float64{0.5, -1.25, 2, 0.75}
				g := make([]float32, len(w))
				params := []nn.Param{{Name: "dense/kernel", Value: w, Grad: g}}
				for step, gs := range grads {
					for i := range g {
						g[i] = float32(gs[i])
					}
					o.Step(e, params)
					ref.step(want, gs, lr)
					for i := range w {
						// float32 arithmetic against float64: a few ulp of
						// the values and of the rate.
						if d := math.Abs(float64(w[i]) - want[i]); d > 2e-6*math.Max(1, math.Abs(want[i])) {
							t.Fatalf("%s %v step %d: w[%d] = %.9f, want %.9f", rule.name, args, step+1, i, w[i], want[i])
						}
					}
				}
				if ref.b("use_ema") {
					o.Finalize(params)
					for i := range w {
						if d := math.Abs(float64(w[i]) - ref.s["average"][i]); d > 2e-6 {
							t.Fatalf("%s %v: finalized w[%d] = %.9f, want the average %.9f", rule.name, args, i, w[i], ref.s["average"][i])
						}
					}
				}
			}
		}
	}
}

// TestOptimizerFirstSteps checks a few values worked by hand, so that the
// reference above is itself checked.
func TestOptimizerFirstSteps(t *testing.T) {
	for _, c := range []struct {
		name string
		args Args
		g    []float32
		want []float64
	}{
		// SGD: w - lr g.
		{"sgd", nil, []float32{2, 2}, []float64{0.98, 0.98}},
		// Nesterov first step: m = -lr g; w += mom m - lr g = -lr g (1 + mom).
		{"sgd", Args{"momentum": 0.5, "nesterov": true}, []float32{2, 2}, []float64{0.97, 0.97}},
		// Adam's and Adamax's first steps are lr sign(g) for |g| >> epsilon.
		{"adam", nil, []float32{0.5, -2}, []float64{0.99, 1.01}},
		{"adamax", nil, []float32{0.5, -2}, []float64{0.99, 1.01}},
		{"lion", nil, []float32{0.5, -2}, []float64{0.99, 1.01}},
		// Adagrad: a = 0.1 + g²; w - lr g / sqrt(a).
		{"adagrad", nil, []float32{0.3, 0}, []float64{1 - 0.01*0.3/math.Sqrt(0.19+1e-7), 1}},
		// AdamW: (1 - 0.004 lr) w, then Adam's lr sign(g).
		{"adamw", nil, []float32{0.5, -2}, []float64{1 - 0.004*0.01 - 0.01, 1 - 0.004*0.01 + 0.01}},
		// clipvalue 0.1 on RMSprop: v = 0.1·0.01, w - lr·0.1/sqrt(v).
		{"rmsprop", Args{"clipvalue": 0.1}, []float32{3, -3}, []float64{1 - 0.01*0.1/math.Sqrt(0.001+1e-7), 1 + 0.01*0.1/math.Sqrt(0.001+1e-7)}},
	} {
		o, err := Build(c.name, Constant(0.01), c.args)
		if err != nil {
			t.Fatal(err)
		}
		w := []float32{1, 1}
		o.Step(nil, []nn.Param{{Value: w, Grad: c.g}})
		for i := range w {
			if math.Abs(float64(w[i])-c.want[i]) > 1e-6 {
				t.Errorf("%s %v: w = %v, want %v", c.name, c.args, w, c.want)
				break
			}
		}
	}
}

func ExampleBuild() {
	o, err := Build("sgd", Constant(0.1), Args{"momentum": 0.9, "nesterov": true})
	if err != nil {
		panic(err)
	}
	w := []float32{1}
	o.Step(nil, []nn.Param{{Name: "w", Value: w, Grad: []float32{1}}})
	fmt.Printf("%.2f %s %d\n", w[0], o.Name(), o.Iterations())
	// Output: 0.81 sgd 1
}

// TestClipNormPerTensorAndGlobal: clipnorm scales each gradient by its own
// norm, global_clipnorm all of them by their joint norm.
func TestClipNormPerTensorAndGlobal(t *testing.T) {
	for _, c := range []struct {
		key        string
		wantA      float64 // the factor on gradient a (norm 5)
		wantB      float64 // on gradient b (norm 1)
		clip, norm float64
	}{
		{"clipnorm", 2.0 / 5, 1, 2, 0},
		{"global_clipnorm", 2 / math.Sqrt(26), 2 / math.Sqrt(26), 2, 0},
	} {
		o, _ := Build("sgd", Constant(1), Args{c.key: c.clip})
		a := []float32{0, 0}
		b := []float32{0}
		o.Step(nil, []nn.Param{{Name: "a", Value: a, Grad: []float32{3, 4}}, {Name: "b", Value: b, Grad: []float32{1}}})
		got := []float64{float64(a[0]), float64(a[1]), float64(b[0])}
		want := []float64{-3 * c.wantA, -4 * c.wantA, -c.wantB}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-6 {
				t.Fatalf("%s: steps %v, want %v", c.key, got, want)
			}
		}
	}
}

// TestLionFloat32Betas: Keras's Lion casts beta_1 and beta_2 to the
// variable's dtype and subtracts them from 1.0 there (lion.py:
// ops.multiply(gradient, (1.0 - beta_2))), so 1 - beta is float32
// arithmetic: 1 - float32(0.99) = 0.00999999, not float32(0.01).
func TestLionFloat32Betas(t *testing.T) {
	o, err := Build("lion", Constant(1e-3), Args{"beta_2": 0.99})
	if err != nil {
		t.Fatal(err)
	}
	p := []nn.Param{{Name: "dense/kernel", Shape: []int{2}, Value: []float32{0, 0}, Grad: []float32{1, -3}}}
	o.Step(nil, p)
	one := float32(1)
	want := []float32{(one - float32(0.99)) * 1, (one - float32(0.99)) * -3}
	if want[0] == float32(0.01) {
		t.Fatal("the case does not tell the two apart")
	}
	var got []float32
	for _, s := range o.State().Slots {
		if strings.HasSuffix(s.Name, "momentum") {
			got = s.Data
		}
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("momentum %v, want %v", got, want)
	}
}
