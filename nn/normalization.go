package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cifarnet/cifarnet/tensor"
)

// BatchNormalization is keras.layers.BatchNormalization (keras/src/layers/
// normalization/batch_normalization.py) over the features of each row
// (axis -1). While training it normalizes with the batch's mean and
// (biased) variance and updates
//
//	moving_mean     = moving_mean·momentum + mean·(1-momentum)
//	moving_variance = moving_variance·momentum + variance·(1-momentum)
//
// at inference it uses the moving statistics; either way the output is, as
// ops.batch_normalization computes it, x·inv + (beta - mean·inv) with
// inv = gamma/sqrt(variance + epsilon).
//
// Shapes: x b x n (borrowed, rows ldx apart); Gamma, Beta, MovingMean,
// MovingVariance n.
type BatchNormalization struct {
	configured
	// Momentum is as read; the update also uses oneMinusMomentum, 1 -
	// momentum from the momentum as given, set with it from the config.
	Momentum, Epsilon float32
	oneMinusMomentum  float32
	Center, Scale     bool
	// Initializers of the four variables (Keras: zeros, ones, zeros, ones).
	BetaInit, GammaInit, MovingMeanInit, MovingVarianceInit Initializer
	BetaRegularizer, GammaRegularizer                       *Regularizer
	BetaConstraint, GammaConstraint                         *Constraint

	Gamma, Beta, MovingMean, MovingVariance []float32
	DGamma, DBeta                           []float32

	name  string
	width int
	// The last Forward: its input, mode, and per feature the mean and
	// 1/sqrt(variance + epsilon) it used.
	x        []float32
	ldx      int
	training bool
	mean     []float32
	inv      []float32
	scale    []float32 // inv·gamma
	shift    []float32 // beta - mean·scale
	out, dx  []float32
}

func newBatchNormalizationFromConfig(c *configReader) (Layer, error) {
	l := &BatchNormalization{name: c.name}
	if axis := c.integer("axis", -1, -1, 1); axis == 0 {
		c.fail("axis", "want -1 (the features; 1 is the same for flat rows), got 0")
	}
	m := c.float("momentum", 0.99, 0, 1)
	// Keras multiplies by the momentum and by 1.0 - momentum computed in
	// Python's double (batch_normalization.py), each cast to float32.
	l.Momentum, l.oneMinusMomentum = float32(m), float32(1-m)
	l.Epsilon = float32(c.float("epsilon", 1e-3, math.SmallestNonzeroFloat32, math.MaxFloat32))
	l.Center = c.boolean("center", true)
	l.Scale = c.boolean("scale", true)
	l.BetaInit = c.vectorInitializerField("beta_initializer", "Zeros", l.Center)
	l.GammaInit = c.vectorInitializerField("gamma_initializer", "Ones", l.Scale)
	l.MovingMeanInit = c.vectorInitializerField("moving_mean_initializer", "Zeros", true)
	l.MovingVarianceInit = c.vectorInitializerField("moving_variance_initializer", "Ones", true)
	l.BetaRegularizer = c.regularizerField("beta_regularizer")
	l.GammaRegularizer = c.regularizerField("gamma_regularizer")
	l.BetaConstraint = c.constraintField("beta_constraint")
	l.GammaConstraint = c.constraintField("gamma_constraint")
	c.fixed("synchronized", false)
	// Batch renormalization (Keras 3.14+ writes its fields: renorm false,
	// renorm_clipping null, renorm_momentum unused then) is not supported.
	c.newerDefault("renorm", "false", func(v any) bool { return v == false })
	c.newerDefault("renorm_clipping", "null", func(v any) bool { return v == nil })
	c.newerDefault("renorm_momentum", "a number (unused without renorm)", func(v any) bool { _, ok := toFloat(v); return ok })
	return l, nil
}

// Name implements Layer.
func (l *BatchNormalization) Name() string { return l.name }

// Build implements Layer.
func (l *BatchNormalization) Build(in int) error {
	if _, err := l.outputWidth(in); err != nil {
		return err
	}
	l.width = in
	mk := func() []float32 { return make([]float32, in) }
	if l.Scale {
		l.Gamma, l.DGamma = mk(), mk()
	}
	if l.Center {
		l.Beta, l.DBeta = mk(), mk()
	}
	l.MovingMean, l.MovingVariance = mk(), mk()
	l.mean, l.inv, l.scale, l.shift = mk(), mk(), mk(), mk()
	// Until initialize runs: Keras's defaults.
	for i := range in {
		l.MovingVariance[i] = 1
		if l.Scale {
			l.Gamma[i] = 1
		}
	}
	return nil
}

func (l *BatchNormalization) outputWidth(in int) (int, error) {
	if in <= 0 {
		return 0, fmt.Errorf("%s: input width %d must be positive", l.name, in)
	}
	return in, nil
}

func (l *BatchNormalization) initialize(r *rand.Rand) {
	n := l.width
	for _, v := range []struct {
		init Initializer
		w    []float32
	}{{l.GammaInit, l.Gamma}, {l.BetaInit, l.Beta}, {l.MovingMeanInit, l.MovingMean}, {l.MovingVarianceInit, l.MovingVariance}} {
		if v.init != nil && v.w != nil {
			v.init(r, v.w, n, n)
		}
	}
}

// OutputWidth implements Layer.
func (l *BatchNormalization) OutputWidth() int { return l.width }

// Forward implements Layer.
func (l *BatchNormalization) Forward(_ *tensor.Engine, x []float32, ldx, batch int, training bool) ([]float32, int) {
	n := l.width
	l.x, l.ldx, l.training = x, ldx, training
	mean, inv := l.mean, l.inv
	if training {
		// The batch's mean and biased variance, feature by feature, rows
		// added in order.
		clear(mean)
		for i := range batch {
			xr := x[i*ldx : i*ldx+n]
			for j, v := range xr {
				mean[j] += v
			}
		}
		fb := float32(batch)
		for j := range mean {
			mean[j] /= fb
		}
		variance := inv
		clear(variance)
		for i := range batch {
			xr := x[i*ldx : i*ldx+n]
			for j, v := range xr {
				d := v - mean[j]
				variance[j] += d * d
			}
		}
		m, om := l.Momentum, l.oneMinusMomentum
		for j := range variance {
			variance[j] /= fb
			l.MovingMean[j] = l.MovingMean[j]*m + mean[j]*om
			l.MovingVariance[j] = l.MovingVariance[j]*m + variance[j]*om
			inv[j] = 1 / float32(math.Sqrt(float64(variance[j]+l.Epsilon)))
		}
	} else {
		copy(mean, l.MovingMean)
		for j, v := range l.MovingVariance {
			inv[j] = 1 / float32(math.Sqrt(float64(v+l.Epsilon)))
		}
	}
	for j := range n {
		s := inv[j]
		if l.Scale {
			s *= l.Gamma[j]
		}
		l.scale[j] = s
		l.shift[j] = -mean[j] * s
		if l.Center {
			l.shift[j] += l.Beta[j]
		}
	}
	out := growTo(&l.out, batch*n)
	for i := range batch {
		xr, or := x[i*ldx:i*ldx+n], out[i*n:(i+1)*n]
		for j, v := range xr {
			or[j] = v*l.scale[j] + l.shift[j]
		}
	}
	return out, n
}

// Backward implements Layer. With batch statistics, x̂ = (x-mean)·inv:
//
//	dbeta  = Σ g        dgamma = Σ g·x̂
//	dx     = gamma·inv/b · (b·g - dbeta - x̂·dgamma)
//
// with moving statistics (constants) dx = g·inv·gamma.
func (l *BatchNormalization) Backward(_ *tensor.Engine, g []float32, batch int, needDX bool) []float32 {
	n, x, ldx := l.width, l.x, l.ldx
	// Σg and Σg·x̂ per feature, in dx's first row's place: reuse the
	// layer's own scratch.
	sumG, sumGX := growTo(&l.dx, batch*n+2*n)[batch*n:batch*n+n], l.dx[batch*n+n:batch*n+2*n]
	clear(sumG)
	clear(sumGX)
	for i := range batch {
		xr, gr := x[i*ldx:i*ldx+n], g[i*n:(i+1)*n]
		for j, gv := range gr {
			sumG[j] += gv
			sumGX[j] += gv * (xr[j] - l.mean[j]) * l.inv[j]
		}
	}
	if l.Center {
		copy(l.DBeta, sumG)
	}
	if l.Scale {
		copy(l.DGamma, sumGX)
	}
	if !needDX {
		return nil
	}
	dx := l.dx[:batch*n]
	if !l.training {
		for i := range batch {
			gr, dr := g[i*n:(i+1)*n], dx[i*n:(i+1)*n]
			for j, gv := range gr {
				dr[j] = gv * l.scale[j]
			}
		}
		return dx
	}
	fb := float32(batch)
	for i := range batch {
		xr, gr, dr := x[i*ldx:i*ldx+n], g[i*n:(i+1)*n], dx[i*n:(i+1)*n]
		for j, gv := range gr {
			xhat := (xr[j] - l.mean[j]) * l.inv[j]
			dr[j] = l.scale[j] / fb * (fb*gv - sumG[j] - xhat*sumGX[j])
		}
	}
	return dx
}

// Params implements Layer: gamma, then beta (those that exist).
func (l *BatchNormalization) Params() []Param {
	var ps []Param
	if l.Scale {
		ps = append(ps, Param{l.name + "/gamma", []int{l.width}, l.Gamma, l.DGamma})
	}
	if l.Center {
		ps = append(ps, Param{l.name + "/beta", []int{l.width}, l.Beta, l.DBeta})
	}
	return ps
}

// Variables implements Layer: gamma, beta, moving_mean, moving_variance.
func (l *BatchNormalization) Variables() []Variable {
	return append(paramVariables(l.Params()),
		Variable{Name: l.name + "/moving_mean", Shape: []int{l.width}, Value: l.MovingMean},
		Variable{Name: l.name + "/moving_variance", Shape: []int{l.width}, Value: l.MovingVariance})
}

func (l *BatchNormalization) regularization(addGrad bool) float32 {
	var loss float32
	if l.Scale {
		loss += l.GammaRegularizer.Penalize(l.Gamma, l.DGamma, addGrad)
	}
	if l.Center {
		loss += l.BetaRegularizer.Penalize(l.Beta, l.DBeta, addGrad)
	}
	return loss
}

func (l *BatchNormalization) constrain() {
	if k := l.GammaConstraint; k != nil && l.Scale {
		k.Apply(l.Gamma, l.width, 1)
	}
	if k := l.BetaConstraint; k != nil && l.Center {
		k.Apply(l.Beta, l.width, 1)
	}
}

// Normalization is keras.layers.Normalization (keras/src/layers/
// preprocessing/normalization.py) over the features (axis -1):
// (x - mean) / max(sqrt(variance), 1e-7), with mean and variance given in
// its config or adapted on the training data (Sequential.Adapt, as
// layer.adapt(x_train) computes them).
type Normalization struct {
	elementwise
	Mean, Variance []float32
	// Count is Keras's non-trainable scalar "count" (shape (), initializer
	// zeros), which Keras 3 keeps only so that older saved models load:
	// its adapt never assigns it, so it stays 0 (stored as float32 here;
	// Keras's dtype is "int"). Like mean and variance it exists only for
	// an adapted layer, not for one given mean and variance.
	Count []float32
	// Adapted is set once Mean and Variance hold values (given, adapted
	// or loaded).
	Adapted bool

	fixedMean, fixedVariance float64
	fixed                    bool
	div, out                 []float32
}

func newNormalizationFromConfig(c *configReader) (Layer, error) {
	l := &Normalization{elementwise: elementwise{name: c.name}}
	// Keras writes the axis as a list ([-1]); an integer is accepted too.
	raw, given := c.in["axis"]
	v, _ := c.get("axis")
	switch v := v.(type) {
	case nil:
		if given && raw == nil { // Keras's axis=None: one mean and variance over every feature
			c.fail("axis", "want [-1] (a mean and variance per feature), got null (one over all features, which cifarnet does not do)")
		}
	case []any:
		if len(v) != 1 || (v[0] != -1.0 && v[0] != 1.0) {
			c.fail("axis", "want [-1] (the features), got %s", compact(v))
		}
	default:
		if f, ok := toFloat(v); !ok || (f != -1 && f != 1) {
			c.fail("axis", "want [-1] (the features), got %s", compact(v))
		}
	}
	c.out["axis"] = []any{-1}
	c.fixed("invert", false)
	_, hasMean := c.get("mean")
	_, hasVar := c.get("variance")
	switch {
	case hasMean != hasVar:
		c.fail("mean", "mean and variance must be given together")
	case hasMean:
		l.fixed = true
		l.fixedMean = c.float("mean", 0, -math.MaxFloat32, math.MaxFloat32)
		l.fixedVariance = c.float("variance", 1, 0, math.MaxFloat32)
	default:
		c.out["mean"], c.out["variance"] = nil, nil
	}
	return l, nil
}

// Build implements Layer.
func (l *Normalization) Build(in int) error {
	if err := l.elementwise.Build(in); err != nil {
		return err
	}
	l.Mean, l.Variance, l.div = make([]float32, in), make([]float32, in), make([]float32, in)
	l.Count = make([]float32, 1)
	for i := range in {
		l.Mean[i], l.Variance[i] = float32(l.fixedMean), 1
		if l.fixed {
			l.Variance[i] = float32(l.fixedVariance)
		}
	}
	l.Adapted = l.fixed
	return nil
}

// Variables implements Layer: mean, variance and count, non-trainable, in
// Keras's order (a mean and variance given in the config are constants,
// not variables, in Keras, and there is no count either).
func (l *Normalization) Variables() []Variable {
	if l.fixed {
		return nil
	}
	return []Variable{
		{Name: l.name + "/mean", Shape: []int{l.width}, Value: l.Mean},
		{Name: l.name + "/variance", Shape: []int{l.width}, Value: l.Variance},
		{Name: l.name + "/count", Shape: []int{}, Value: l.Count, Optional: true},
	}
}

// normalizationEpsilon is Keras's backend.epsilon().
const normalizationEpsilon = 1e-7

// Forward implements Layer.
func (l *Normalization) Forward(_ *tensor.Engine, x []float32, ldx, batch int, _ bool) ([]float32, int) {
	w := l.width
	for j, v := range l.Variance {
		l.div[j] = max(float32(math.Sqrt(float64(v))), normalizationEpsilon)
	}
	out := growTo(&l.out, batch*w)
	for i := range batch {
		xr, or := x[i*ldx:i*ldx+w], out[i*w:(i+1)*w]
		for j, v := range xr {
			or[j] = (v - l.Mean[j]) / l.div[j]
		}
	}
	return out, w
}

// Backward implements Layer.
func (l *Normalization) Backward(_ *tensor.Engine, g []float32, batch int, _ bool) []float32 {
	w := l.width
	g = g[:batch*w]
	for i := range batch {
		gr := g[i*w : (i+1)*w]
		for j := range gr {
			gr[j] /= l.div[j]
		}
	}
	return g
}

// adapt sets Mean and Variance from the per-feature sums of n samples.
func (l *Normalization) adapt(sum, sumSq []float64, n int) {
	for j := range l.Mean {
		m := sum[j] / float64(n)
		l.Mean[j] = float32(m)
		l.Variance[j] = float32(max(sumSq[j]/float64(n)-m*m, 0))
	}
	l.Adapted = true
}
