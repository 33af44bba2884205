package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/tensor"
)

func built(t *testing.T, lc LayerConfig, in int, seed uint64) Layer {
	t.Helper()
	l, err := NewLayer(lc)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Build(in); err != nil {
		t.Fatal(err)
	}
	if r, ok := l.(random); ok {
		r.useRand(rand.New(rand.NewPCG(seed, 1)))
	}
	return l
}

func normals(r *rand.Rand, n int, mean, sd float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(mean + sd*r.NormFloat64())
	}
	return x
}

func near(t *testing.T, what string, got float32, want, tol float64) {
	t.Helper()
	if math.Abs(float64(got)-want) > tol*(1+math.Abs(want)) {
		t.Errorf("%s = %.7g, want %.7g", what, got, want)
	}
}

// TestBatchNormalizationKeras checks BN against Keras's formulas worked in
// float64: batch statistics (biased variance) while training, the moving
// average update after several steps, the moving statistics at inference,
// and the backward pass.
func TestBatchNormalizationKeras(t *testing.T) {
	e := tensor.NewEngine(1)
	defer e.Close()
	const b, n, momentum, eps = 6, 3, 0.9, 1e-3
	bn := built(t, layer("BatchNormalization", "bn", "momentum", momentum, "epsilon", eps), n, 0).(*BatchNormalization)
	r := rand.New(rand.NewPCG(1, 2))
	gamma, beta := normals(r, n, 1, 0.5), normals(r, n, 0, 0.5)
	copy(bn.Gamma, gamma)
	copy(bn.Beta, beta)
	mm, mv := []float64{0, 0, 0}, []float64{1, 1, 1}
	var x []float32
	var mean, variance [n]float64
	for step := range 3 {
		x = normals(r, b*n, float64(step), 2)
		y, ldy := bn.Forward(e, x, n, b, true)
		for j := range n {
			mean[j], variance[j] = 0, 0
			for i := range b {
				mean[j] += float64(x[i*n+j]) / b
			}
			for i := range b {
				d := float64(x[i*n+j]) - mean[j]
				variance[j] += d * d / b
			}
			for i := range b {
				want := float64(gamma[j])*(float64(x[i*n+j])-mean[j])/math.Sqrt(variance[j]+eps) + float64(beta[j])
				near(t, "training y", y[i*ldy+j], want, 1e-5)
			}
			mm[j] = mm[j]*momentum + mean[j]*(1-momentum)
			mv[j] = mv[j]*momentum + variance[j]*(1-momentum)
			near(t, "moving_mean", bn.MovingMean[j], mm[j], 1e-5)
			near(t, "moving_variance", bn.MovingVariance[j], mv[j], 1e-5)
		}
	}
	// Backward of the last training step, from the closed form in float64:
	// dx = gamma/sqrt(var+eps)/b * (b g - Σg - x̂ Σ(g x̂)).
	g := normals(r, b*n, 0, 1)
	g64 := append([]float32(nil), g...)
	dx := bn.Backward(e, g, b, true)
	for j := range n {
		inv := 1 / math.Sqrt(variance[j]+eps)
		var sg, sgx float64
		for i := range b {
			xh := (float64(x[i*n+j]) - mean[j]) * inv
			sg += float64(g64[i*n+j])
			sgx += float64(g64[i*n+j]) * xh
		}
		near(t, "dbeta", bn.DBeta[j], sg, 1e-5)
		near(t, "dgamma", bn.DGamma[j], sgx, 1e-5)
		for i := range b {
			xh := (float64(x[i*n+j]) - mean[j]) * inv
			want := float64(gamma[j]) * inv / b * (b*float64(g64[i*n+j]) - sg - xh*sgx)
			near(t, "dx", dx[i*n+j], want, 1e-4)
		}
	}
	// Inference: the moving statistics, and the moving statistics stay.
	x = normals(r, b*n, 5, 1)
	y, ldy := bn.Forward(e, x, n, b, false)
	for j := range n {
		for i := range b {
			want := float64(gamma[j])*(float64(x[i*n+j])-mm[j])/math.Sqrt(mv[j]+eps) + float64(beta[j])
			near(t, "inference y", y[i*ldy+j], want, 1e-5)
		}
		near(t, "moving_mean after inference", bn.MovingMean[j], mm[j], 1e-5)
	}
	// Keras's defaults.
	d := built(t, layer("BatchNormalization", "d"), 2, 0).(*BatchNormalization)
	if d.Momentum != 0.99 || d.Epsilon != float32(1e-3) || !d.Center || !d.Scale {
		t.Errorf("defaults: momentum %v epsilon %v center %v scale %v", d.Momentum, d.Epsilon, d.Center, d.Scale)
	}
	if vs := d.Variables(); len(vs) != 4 || vs[0].Name != "d/gamma" || vs[1].Name != "d/beta" || vs[2].Name != "d/moving_mean" || vs[3].Name != "d/moving_variance" || vs[2].Trainable {
		t.Errorf("variables %+v", vs)
	}
}

// TestDropoutFamilyStatistics checks the random layers' draws and scaling
// statistically on a million values, and that they pass their input
// through at inference.
func TestDropoutFamilyStatistics(t *testing.T) {
	e := tensor.NewEngine(1)
	defer e.Close()
	const rows, n = 1000, 1000
	total := float64(rows * n)
	x := normals(rand.New(rand.NewPCG(3, 4)), rows*n, 0, 1)
	for _, tc := range []struct {
		lc    LayerConfig
		check func(t *testing.T, y []float32)
	}{
		{layer("Dropout", "d", "rate", 0.3), func(t *testing.T, y []float32) {
			zeros := 0
			for i, v := range y {
				if v == 0 {
					zeros++
				} else if math.Abs(float64(v-x[i]/0.7)) > 1e-6 {
					t.Fatalf("kept value %v, want x/(1-rate) = %v", v, x[i]/0.7)
				}
			}
			// The dropped fraction is within 5 standard deviations of rate.
			if f := float64(zeros) / total; math.Abs(f-0.3) > 5*math.Sqrt(0.3*0.7/total) {
				t.Errorf("dropped fraction %.5f, want 0.3", f)
			}
		}},
		{layer("AlphaDropout", "a", "rate", 0.2), func(t *testing.T, y []float32) {
			alphaP := -seluAlpha * seluScale
			a := math.Pow(0.8*(1+0.2*alphaP*alphaP), -0.5)
			b := -a * alphaP * 0.2
			dropped := 0
			var mean, sq float64
			for i, v := range y {
				mean += float64(v) / total
				sq += float64(v) * float64(v) / total
				if math.Abs(float64(v)-(a*alphaP+b)) < 1e-6 {
					dropped++
				} else if math.Abs(float64(v)-(a*float64(x[i])+b)) > 1e-5 {
					t.Fatalf("kept value %v, want a·x+b = %v", v, a*float64(x[i])+b)
				}
			}
			if f := float64(dropped) / total; math.Abs(f-0.2) > 5*math.Sqrt(0.2*0.8/total) {
				t.Errorf("dropped fraction %.5f, want 0.2", f)
			}
			// AlphaDropout keeps a standard normal's mean 0 and variance 1.
			if math.Abs(mean) > 0.005 || math.Abs(sq-mean*mean-1) > 0.01 {
				t.Errorf("mean %.4f, variance %.4f: want 0 and 1", mean, sq-mean*mean)
			}
		}},
		{layer("GaussianNoise", "n", "stddev", 0.5), func(t *testing.T, y []float32) {
			var mean, sq float64
			for i, v := range y {
				d := float64(v - x[i])
				mean += d / total
				sq += d * d / total
			}
			if math.Abs(mean) > 5*0.5/math.Sqrt(total) || math.Abs(math.Sqrt(sq-mean*mean)-0.5) > 0.002 {
				t.Errorf("noise mean %.5f sd %.5f, want 0 and 0.5", mean, math.Sqrt(sq-mean*mean))
			}
		}},
		{layer("GaussianDropout", "g", "rate", 0.2), func(t *testing.T, y []float32) {
			var mean, sq float64
			for i, v := range y {
				m := float64(v / x[i])
				mean += m / total
				sq += m * m / total
			}
			sd := math.Sqrt(0.2 / 0.8)
			if math.Abs(mean-1) > 5*sd/math.Sqrt(total) || math.Abs(math.Sqrt(sq-mean*mean)-sd) > 0.003 {
				t.Errorf("multiplier mean %.5f sd %.5f, want 1 and %.5f", mean, math.Sqrt(sq-mean*mean), sd)
			}
		}},
	} {
		t.Run(tc.lc.ClassName, func(t *testing.T) {
			l := built(t, tc.lc, n, 9)
			y, ldy := l.Forward(e, x, n, rows, true)
			if ldy != n {
				t.Fatalf("stride %d", ldy)
			}
			tc.check(t, y)
			// Backward is the same multipliers.
			g := make([]float32, rows*n)
			for i := range g {
				g[i] = 1
			}
			dx := l.Backward(e, g, rows, true)
			if tc.lc.ClassName == "Dropout" {
				for i, v := range dx {
					if (y[i] == 0) != (v == 0) {
						t.Fatalf("gradient %v where the output is %v", v, y[i])
					}
				}
			}
			yi, _ := l.Forward(e, x, n, rows, false)
			for i, v := range yi {
				if v != x[i] {
					t.Fatalf("inference changed value %d: %v -> %v", i, x[i], v)
				}
			}
		})
	}
}

// TestNormalizationAdapt: adapt sets the population mean and variance of
// the data, as layer.adapt(x) does, and the output is
// (x - mean) / max(sqrt(variance), 1e-7).
func TestNormalizationAdapt(t *testing.T) {
	e := tensor.NewEngine(1)
	defer e.Close()
	const n, w = 50, 3
	r := rand.New(rand.NewPCG(5, 5))
	x := normals(r, n*w, 3, 2)
	for i := range n {
		x[i*w+2] = 7 // a constant feature: variance 0, divided by epsilon
	}
	m, err := FromConfigs(w, 1, []LayerConfig{layer("Normalization", "norm"), dense("out", 2, "softmax")})
	if err != nil {
		t.Fatal(err)
	}
	if !m.NeedsAdapt() {
		t.Fatal("an unadapted Normalization layer does not ask for adapt")
	}
	m.Adapt(e, n, 16, func(dst []float32, ldx, from, to int) {
		for i := from; i < to; i++ {
			copy(dst[(i-from)*ldx:], x[i*w:(i+1)*w])
		}
	})
	norm := m.Layers[0].(*Normalization)
	for j := range w {
		var mean, v float64
		for i := range n {
			mean += float64(x[i*w+j]) / n
		}
		for i := range n {
			d := float64(x[i*w+j]) - mean
			v += d * d / n
		}
		near(t, "mean", norm.Mean[j], mean, 1e-6)
		near(t, "variance", norm.Variance[j], v, 1e-5)
		y, _ := norm.Forward(e, x, w, n, false)
		for i := range n {
			near(t, "y", y[i*w+j], (float64(x[i*w+j])-mean)/math.Max(math.Sqrt(v), 1e-7), 1e-4)
		}
	}
	if m.NeedsAdapt() {
		t.Error("adapted layer still asks for adapt")
	}
	// Keras's weights: mean, variance (n each) and the scalar count, all
	// non-trainable; Keras 3's adapt never assigns count, so it stays at
	// its zeros initializer.
	vs := norm.Variables()
	wantVars := []struct {
		name  string
		shape []int
	}{{"norm/mean", []int{w}}, {"norm/variance", []int{w}}, {"norm/count", []int{}}}
	if len(vs) != len(wantVars) {
		t.Fatalf("%d variables, want %d (mean, variance, count)", len(vs), len(wantVars))
	}
	for i, want := range wantVars {
		v := vs[i]
		size := 1
		for _, d := range want.shape {
			size *= d
		}
		if v.Name != want.name || !slices.Equal(v.Shape, want.shape) || len(v.Value) != size || v.Trainable {
			t.Errorf("variable %d: %s %v (%d values, trainable %v), want %s %v non-trainable", i, v.Name, v.Shape, len(v.Value), v.Trainable, want.name, want.shape)
		}
	}
	if c := vs[2].Value[0]; c != 0 {
		t.Errorf("count after adapt = %v, want 0 (Keras 3's adapt leaves it at zeros)", c)
	}
	// Given mean and variance are constants in Keras: no variables at all.
	fixed := built(t, layer("Normalization", "fixed", "mean", 1.0, "variance", 4.0), w, 0)
	if vs := fixed.Variables(); len(vs) != 0 {
		t.Errorf("Normalization with given mean and variance has variables %v, want none", vs)
	}
}

// TestActivationsFormulas checks every activation against Keras's
// definition (keras/src/activations/activations.py) worked in float64.
func TestActivationsFormulas(t *testing.T) {
	e := tensor.NewEngine(1)
	defer e.Close()
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	sp := func(x float64) float64 { return math.Log1p(math.Exp(x)) }
	elu := func(x float64) float64 {
		if x > 0 {
			return x
		}
		return math.Exp(x) - 1
	}
	want := map[string]func(float64) float64{
		"elu": elu,
		"selu": func(x float64) float64 {
			return 1.0507009873554805 * map[bool]float64{true: x, false: 1.6732632423543772 * (math.Exp(x) - 1)}[x > 0]
		},
		"relu":       func(x float64) float64 { return math.Max(x, 0) },
		"relu6":      func(x float64) float64 { return math.Min(math.Max(x, 0), 6) },
		"leaky_relu": func(x float64) float64 { return map[bool]float64{true: x, false: 0.2 * x}[x >= 0] },
		"gelu":       func(x float64) float64 { return x / 2 * (1 + math.Erf(x/math.Sqrt(2))) },
		"gelu_tanh": func(x float64) float64 {
			return x / 2 * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*math.Pow(x, 3))))
		},
		"silu":         func(x float64) float64 { return x * sig(x) },
		"swish":        func(x float64) float64 { return x * sig(x) },
		"mish":         func(x float64) float64 { return x * math.Tanh(sp(x)) },
		"softplus":     sp,
		"softsign":     func(x float64) float64 { return x / (1 + math.Abs(x)) },
		"tanh":         math.Tanh,
		"sigmoid":      sig,
		"hard_sigmoid": func(x float64) float64 { return math.Max(0, math.Min(1, x/6+0.5)) },
		"hard_silu":    func(x float64) float64 { return x * math.Max(0, math.Min(1, x/6+0.5)) },
		"hard_swish":   func(x float64) float64 { return x * math.Max(0, math.Min(1, x/6+0.5)) },
		"exponential":  math.Exp,
		"linear":       func(x float64) float64 { return x },
	}
	xs := []float32{-7, -3.5, -3, -1.2, -0.3, 0, 0.25, 1, 2.9, 3, 5.5, 6.5}
	w := len(xs)
	for _, name := range ActivationNames() {
		a, _ := LookupActivation(name)
		y := append([]float32(nil), xs...)
		a.Forward(e, y, make([]float32, w), 1)
		var sumExp float64
		for _, v := range xs {
			sumExp += math.Exp(float64(v))
		}
		for i, v := range xs {
			var expect float64
			switch name {
			case "softmax":
				expect = math.Exp(float64(v)) / sumExp
			case "log_softmax":
				expect = float64(v) - math.Log(sumExp)
			default:
				f, ok := want[name]
				if !ok {
					t.Fatalf("no reference formula for %s", name)
				}
				expect = f(float64(v))
			}
			if math.Abs(float64(y[i])-expect) > 2e-6*(1+math.Abs(expect)) {
				t.Errorf("%s(%v) = %v, want %v", name, v, y[i], expect)
			}
		}
	}
}

// TestInitializerDistributions checks the initializers TestInitializers
// does not: their mean, spread, bounds and (Orthogonal) orthogonality.
func TestInitializerDistributions(t *testing.T) {
	const rows, cols = 400, 300
	draw := func(cls string, cfg map[string]any, r, c int) []float32 {
		t.Helper()
		reader := &configReader{class: "test", name: cls, in: map[string]any{}, out: map[string]any{}}
		init, _, err := reader.initializer("kernel_initializer", kerasObject{class: cls, config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		w := make([]float32, r*c)
		init(rand.New(rand.NewPCG(8, 9)), w, r, c)
		return w
	}
	for _, tt := range []struct {
		cls            string
		cfg            map[string]any
		mean, sd, maxA float64
	}{
		{"RandomNormal", map[string]any{}, 0, 0.05, 1},
		{"RandomNormal", map[string]any{"mean": 1.0, "stddev": 2.0}, 1, 2, 100},
		{"RandomUniform", map[string]any{}, 0, 0.1 / math.Sqrt(12), 0.05},
		{"RandomUniform", map[string]any{"minval": 1.0, "maxval": 3.0}, 2, 2 / math.Sqrt(12), 3},
		// sd of N(0, 0.05²) truncated at 2 sd is 0.05·0.8796.
		{"TruncatedNormal", map[string]any{}, 0, 0.05 * truncatedNormalScale, 0.1},
		{"LecunUniform", map[string]any{}, 0, math.Sqrt(1.0 / rows), math.Sqrt(3.0 / rows)},
		{"LecunNormal", map[string]any{}, 0, math.Sqrt(1.0 / rows), 2 * math.Sqrt(1.0/rows) / truncatedNormalScale},
		{"VarianceScaling", map[string]any{"scale": 3.0, "mode": "fan_out", "distribution": "untruncated_normal"}, 0, math.Sqrt(3.0 / cols), 1},
		{"Zeros", map[string]any{}, 0, 0, 0},
		{"Ones", map[string]any{}, 1, 0, 1},
		{"Constant", map[string]any{"value": 0.3}, 0.3, 0, 0.3},
	} {
		w := draw(tt.cls, tt.cfg, rows, cols)
		mean, sd, maxAbs := moments(w)
		if math.Abs(mean-tt.mean) > 0.02*tt.sd+1e-6 || math.Abs(sd-tt.sd) > 0.02*tt.sd+1e-6 || maxAbs > tt.maxA*(1+1e-6) {
			t.Errorf("%s %v: mean %g sd %g max |w| %g, want %g, %g, <= %g", tt.cls, tt.cfg, mean, sd, maxAbs, tt.mean, tt.sd, tt.maxA)
		}
	}
	// Orthogonal: WᵀW = I for a tall kernel, WWᵀ = I for a wide one.
	for _, shape := range [][2]int{{40, 30}, {30, 40}, {25, 25}} {
		r, c := shape[0], shape[1]
		w := draw("Orthogonal", map[string]any{"gain": 2.0}, r, c)
		short := min(r, c)
		for a := range short {
			for b := range short {
				var dot float64
				for k := range max(r, c) {
					if r >= c {
						dot += float64(w[k*c+a]) * float64(w[k*c+b])
					} else {
						dot += float64(w[a*c+k]) * float64(w[b*c+k])
					}
				}
				want := 0.0
				if a == b {
					want = 4 // gain²
				}
				if math.Abs(dot-want) > 1e-4 {
					t.Fatalf("orthogonal %dx%d: row/column %d·%d = %g, want %g", r, c, a, b, dot, want)
				}
			}
		}
	}
	// A seeded initializer gives the same values at every call.
	a := draw("HeNormal", map[string]any{"seed": 5.0}, 3, 3)
	reader := &configReader{in: map[string]any{}, out: map[string]any{}}
	init, _, _ := reader.initializer("k", kerasObject{class: "HeNormal", config: map[string]any{"seed": 5.0}})
	b := make([]float32, 9)
	init(rand.New(rand.NewPCG(99, 99)), b, 3, 3)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("a seeded initializer depends on the model's stream")
		}
	}
}

// TestRegularizersAndConstraints checks the penalties and the constraints
// against Keras's formulas.
func TestRegularizersAndConstraints(t *testing.T) {
	w := []float32{1, -2, 0, 3, -0.5, 4} // 3 rows x 2 columns
	r := Regularizer{L1: 0.1, L2: 0.01}
	near(t, "l1_l2 loss", r.Loss(w), 0.1*10.5+0.01*30.25, 1e-6)
	g := make([]float32, len(w))
	r.AddGradient(g, w)
	for i, v := range w {
		s := 0.0
		if v > 0 {
			s = 1
		} else if v < 0 {
			s = -1
		}
		near(t, "l1_l2 gradient", g[i], 0.1*s+0.02*float64(v), 1e-6)
	}
	// Column norms: sqrt(1+0+0.25) and sqrt(4+9+16).
	norms := []float64{math.Sqrt(1.25), math.Sqrt(29)}
	for _, tt := range []struct {
		c       Constraint
		desired func(norm float64) float64
	}{
		{Constraint{Kind: "max_norm", MaxValue: 2}, func(n float64) float64 { return math.Min(n, 2) }},
		{Constraint{Kind: "unit_norm"}, func(float64) float64 { return 1 }},
		{Constraint{Kind: "min_max_norm", MinValue: 1.5, MaxValue: 3, Rate: 0.5}, func(n float64) float64 {
			return 0.5*math.Min(math.Max(n, 1.5), 3) + 0.5*n
		}},
	} {
		got := append([]float32(nil), w...)
		tt.c.Apply(got, 3, 2)
		for i := range got {
			j := i % 2
			want := float64(w[i]) * tt.desired(norms[j]) / (1e-7 + norms[j])
			near(t, tt.c.Kind, got[i], want, 1e-6)
		}
	}
	nn := append([]float32(nil), w...)
	(&Constraint{Kind: "non_neg"}).Apply(nn, 3, 2)
	for i, v := range w {
		if want := float32(math.Max(float64(v), 0)); nn[i] != want {
			t.Errorf("non_neg: %v -> %v, want %v", v, nn[i], want)
		}
	}
}

// TestInitializerAliases: every name Keras 3 reads an initializer by
// (ALL_OBJECTS_DICT in keras/src/initializers/__init__.py), as a plain
// name or a class_name, gives the same weights as the class it names;
// OrthogonalInitializer is Orthogonal's class name in Keras 3.0-3.6 files.
func TestInitializerAliases(t *testing.T) {
	weights := func(init any) []float32 {
		t.Helper()
		m, err := FromConfigs(6, 1, []LayerConfig{
			{"Dense", map[string]any{"name": "d", "units": 5, "kernel_initializer": init}},
			{"Dense", map[string]any{"name": "out", "units": 2, "activation": "softmax"}},
		})
		if err != nil {
			t.Fatalf("%v: %v", init, err)
		}
		m.Initialize(3)
		var w []float32
		for _, v := range m.Variables() {
			w = append(w, v.Value...)
		}
		return w
	}
	for alias, class := range map[string]string{
		"normal": "RandomNormal", "uniform": "RandomUniform", "one": "Ones", "zero": "Zeros",
		"OrthogonalInitializer": "Orthogonal", "orthogonal_initializer": "Orthogonal",
		"random_normal": "RandomNormal", "he_normal": "HeNormal", "Zeros": "Zeros",
	} {
		want := weights(map[string]any{"class_name": class, "config": map[string]any{}})
		for _, init := range []any{alias, map[string]any{"class_name": alias, "config": map[string]any{}}} {
			if got := weights(init); !slices.Equal(got, want) {
				t.Errorf("%v: weights differ from %s's", init, class)
			}
		}
	}
}

// TestOrthogonalNeedsAMatrix: Orthogonal on a vector (a bias, a batch
// normalization's gamma) indexed past the weight and panicked; it is
// refused when the model is read, naming the field, as Keras refuses a
// shape of fewer than two dimensions. On a kernel it stays.
func TestOrthogonalNeedsAMatrix(t *testing.T) {
	for _, c := range []struct{ layers, want string }{
		{"dense(16, bias_initializer='orthogonal')", "bias_initializer: Orthogonal initializes a matrix"},
		{"dense(16), batchnorm(gamma_initializer='Orthogonal')", "gamma_initializer: Orthogonal"},
		{"dense(16), batchnorm(beta_initializer='OrthogonalInitializer')", "beta_initializer: Orthogonal"},
		{"dense(16), batchnorm(moving_variance_initializer='orthogonal')", "moving_variance_initializer: Orthogonal"},
	} {
		cs, err := ParseLayers(c.layers, map[string]int{})
		if err == nil {
			mc := ModelConfig{Name: "m", InputShape: []int{8}, Layers: append(cs, LayerConfig{ClassName: "Dense", Config: map[string]any{"name": "out", "units": 3.0, "activation": "softmax"}})}
			_, err = mc.Build(1)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.layers, err, c.want)
		}
	}
	// A vector never built is never initialized, as in Keras.
	cs, err := ParseLayers("dense(16, kernel_initializer='orthogonal', use_bias=False, bias_initializer='orthogonal'), batchnorm(center=False, beta_initializer='orthogonal')", map[string]int{})
	if err != nil {
		t.Fatal(err)
	}
	mc := ModelConfig{Name: "m", InputShape: []int{8}, Layers: append(cs, LayerConfig{ClassName: "Dense", Config: map[string]any{"name": "out", "units": 3.0, "activation": "softmax"}})}
	if _, err := mc.Build(1); err != nil {
		t.Errorf("orthogonal kernel: %v", err)
	}
}

// TestKerasNamesAndRanges: what keras.regularizers.get and the noise
// layers' constructors accept: "l1l2" (L1L2's snake_case name, in
// ALL_OBJECTS_DICT of keras/src/regularizers/__init__.py) is L1L2, as its
// function's name l1_l2 is here; a VarianceScaling distribution is read
// in any case (lowered, random_initializers.py).
func TestKerasNamesAndRanges(t *testing.T) {
	build := func(layers ...LayerConfig) (*Sequential, error) {
		return FromConfigs(6, 1, append(layers, LayerConfig{"Dense", map[string]any{"name": "out", "units": 2, "activation": "softmax"}}))
	}
	for _, name := range []string{"l1l2", "l1_l2", "L1L2"} {
		m, err := build(LayerConfig{"Dense", map[string]any{"name": "d", "units": 3, "kernel_regularizer": name}})
		if err != nil {
			t.Fatalf("regularizer %q: %v", name, err)
		}
		if r := m.Layers[0].(*Dense).KernelRegularizer; r == nil || r.L1 != 0 || r.L2 != 0 {
			t.Errorf("regularizer %q: %+v, want L1L2 (0, 0)", name, r)
		}
	}
	if _, err := build(LayerConfig{"Dense", map[string]any{"name": "d", "units": 3, "kernel_initializer": map[string]any{
		"class_name": "VarianceScaling", "config": map[string]any{"distribution": "Uniform"}}}}); err != nil {
		t.Errorf("distribution Uniform: %v", err)
	}
}

// TestConstantsFromTheGivenRates: Keras computes BatchNormalization's
// 1.0 - momentum, Dropout's 1/(1-rate) (its TensorFlow and PyTorch
// backends), AlphaDropout's a and b and GaussianDropout's standard
// deviation in Python's double from the value given, each then cast to
// float32; here they were computed from the float32-rounded value, off by
// an ulp for momentum 0.99, dropout 0.15, alpha dropout 0.2.
func TestConstantsFromTheGivenRates(t *testing.T) {
	m, err := FromConfigs(3, 1, []LayerConfig{
		layer("BatchNormalization", "bn", "momentum", 0.99),
		layer("Dropout", "d", "rate", 0.15),
		layer("AlphaDropout", "a", "rate", 0.2),
		layer("GaussianDropout", "g", "rate", 0.3),
		{"Dense", map[string]any{"name": "out", "units": 2, "activation": "softmax"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Python's double arithmetic (variables: Go folds constants exactly).
	mom, dr, ar, gr := 0.99, 0.15, 0.2, 0.3
	bn := m.Layers[0].(*BatchNormalization)
	if want := float32(1 - mom); bn.oneMinusMomentum != want || want == 1-float32(0.99) {
		t.Errorf("BatchNormalization: 1 - momentum %v, want %v (not %v)", bn.oneMinusMomentum, want, 1-float32(0.99))
	}
	if d := m.Layers[1].(*Dropout); d.scale != float32(1/(1-dr)) || d.scale == 1/(1-float32(dr)) {
		t.Errorf("Dropout: scale %v, want %v", d.scale, float32(1/(1-dr)))
	}
	alphaP := -seluAlpha * seluScale
	a := math.Pow((1-ar)*(1+ar*alphaP*alphaP), -0.5)
	if l := m.Layers[2].(*AlphaDropout); l.a != float32(a) || l.b != float32(-a*alphaP*ar) {
		t.Errorf("AlphaDropout: a %v b %v, want %v %v", l.a, l.b, float32(a), float32(-a*alphaP*ar))
	}
	if g := m.Layers[3].(*GaussianDropout); g.sd != math.Sqrt(gr/(1-gr)) {
		t.Errorf("GaussianDropout: sd %v, want %v", g.sd, math.Sqrt(gr/(1-gr)))
	}
	// The moving mean takes them: from 0, one batch of mean 1.
	e := tensor.NewEngine(1)
	defer e.Close()
	m.Initialize(1)
	x := []float32{1, 1, 1, 1, 1, 1}
	m.Forward(e, x, 3, 2, true)
	if got, want := bn.MovingMean[0], float32(1-mom); got != want {
		t.Errorf("moving mean %v, want %v", got, want)
	}
}

// TestRandomClasses: the layer classes ModelConfig.HasNoiseLayers looks for are
// those whose layers draw random numbers while training (HasRandomLayers,
// Monte Carlo dropout), for every class a model can hold.
func TestRandomClasses(t *testing.T) {
	required := map[string]map[string]any{
		"Dense": {"units": 2}, "Activation": {"activation": "relu"}, "Dropout": {"rate": 0.1},
		"AlphaDropout": {"rate": 0.1}, "GaussianNoise": {"stddev": 0.1}, "GaussianDropout": {"rate": 0.1},
		"Rescaling": {"scale": 0.5},
	}
	for _, class := range LayerClasses() {
		cfg := map[string]any{"name": "l"}
		for k, v := range required[class] {
			cfg[k] = v
		}
		l, err := NewLayer(LayerConfig{class, cfg})
		if err != nil {
			t.Fatalf("%s: %v", class, err)
		}
		if _, isRandom := l.(random); isRandom != randomClasses[class] {
			t.Errorf("%s: draws random numbers %v, randomClasses says %v", class, isRandom, randomClasses[class])
		}
	}
}
