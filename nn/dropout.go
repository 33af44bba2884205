package nn

import (
	"math"
	"math/rand/v2"

	"github.com/cifarnet/cifarnet/tensor"
)

// noise is the part the random layers share: their stream, the
// multipliers of the last training Forward (so that Backward is
// dLoss/dx = g·mult) and their output.
type noise struct {
	elementwise
	r         *rand.Rand
	mult, out []float32
	active    bool // the last Forward applied noise
}

func (l *noise) useRand(r *rand.Rand) { l.r = r }

// Backward implements Layer: g times the last multipliers (1 when the last
// Forward passed its input through).
func (l *noise) Backward(_ *tensor.Engine, g []float32, batch int, _ bool) []float32 {
	g = g[:batch*l.width]
	if l.active {
		for i, m := range l.mult[:len(g)] {
			g[i] *= m
		}
	}
	return g
}

// seedField refuses a per-layer seed: every random layer draws from the
// model's stream, seeded by --seed.
func (c *configReader) seedField() {
	c.null("seed", "a per-layer seed (the model's seed drives every random layer)")
}

// rateField reads a dropout rate in [0, 1).
func (c *configReader) rateField() float64 {
	rate := c.float("rate", 0, 0, 1)
	if _, ok := c.in["rate"]; !ok && c.err == nil {
		c.fail("rate", "required")
	}
	if rate >= 1 && c.err == nil {
		c.fail("rate", "want a value below 1 (rate 1 drops every unit), got %g", rate)
	}
	return rate
}

// keepMask sets mult[i] to scale where a uniform draw u in [0, 1) (24
// bits) has u >= rate, as Keras keeps a unit, else to 0; two draws per
// 64-bit number, in order, so the mask depends only on the stream.
func keepMask(r *rand.Rand, mult []float32, rate, scale float32) {
	thr := uint32(math.Ceil(float64(rate) * (1 << 24)))
	var bits uint64
	for i := range mult {
		if i&1 == 0 {
			bits = r.Uint64()
		} else {
			bits >>= 32
		}
		if uint32(bits)>>8 >= thr {
			mult[i] = scale
		} else {
			mult[i] = 0
		}
	}
}

// multiply sets out (batch x w) to x (rows ldx apart) times mult and
// returns it.
func multiply(out, x []float32, ldx int, mult []float32, batch, w int) []float32 {
	for i := range batch {
		xr, mr, or := x[i*ldx:i*ldx+w], mult[i*w:(i+1)*w], out[i*w:(i+1)*w]
		for j, v := range xr {
			or[j] = v * mr[j]
		}
	}
	return out
}

// Dropout is keras.layers.Dropout (keras/src/layers/regularization/
// dropout.py, backend random.dropout): while training, each value is kept
// with probability 1-rate and scaled by 1/(1-rate), else zeroed; at
// inference the input passes through.
type Dropout struct {
	noise
	Rate float32 // as read; the step uses scale, set with it from the config
	// scale is 1/(1-rate) from the rate as given, as Keras's TensorFlow
	// and PyTorch backends compute it (in double, then cast).
	scale float32
}

func newDropoutFromConfig(c *configReader) (Layer, error) {
	l := &Dropout{noise: noise{elementwise: elementwise{name: c.name}}}
	rate := c.rateField()
	l.Rate, l.scale = float32(rate), float32(1/(1-rate))
	c.null("noise_shape", "noise_shape")
	c.seedField()
	return l, nil
}

// Forward implements Layer.
func (l *Dropout) Forward(_ *tensor.Engine, x []float32, ldx, batch int, training bool) ([]float32, int) {
	l.active = training && l.Rate > 0
	if !l.active {
		return x, ldx
	}
	w := l.width
	mult, out := growTo(&l.mult, batch*w), growTo(&l.out, batch*w)
	keepMask(l.r, mult, l.Rate, l.scale)
	return multiply(out, x, ldx, mult, batch, w), w
}

// AlphaDropout is keras.layers.AlphaDropout (keras/src/layers/
// regularization/alpha_dropout.py): dropped values are set to SELU's
// negative saturation -scale·alpha, then a·x + b restores the mean and
// variance, with a = ((1-rate)(1+rate·alpha_p²))^-1/2 and
// b = -a·alpha_p·rate.
type AlphaDropout struct {
	noise
	Rate float32 // as read; the layer uses a and b, set with it from the config
	a, b float32
	off  []float32 // a·alpha_p·(1-kept) + b, per value
}

func newAlphaDropoutFromConfig(c *configReader) (Layer, error) {
	l := &AlphaDropout{noise: noise{elementwise: elementwise{name: c.name}}}
	rate := c.rateField() // a and b from the rate as given, as Keras's Python computes them
	l.Rate = float32(rate)
	c.null("noise_shape", "noise_shape")
	c.seedField()
	alphaP := -seluAlpha * seluScale
	a := math.Pow((1-rate)*(1+rate*alphaP*alphaP), -0.5)
	l.a, l.b = float32(a), float32(-a*alphaP*rate)
	return l, nil
}

// Forward implements Layer.
func (l *AlphaDropout) Forward(_ *tensor.Engine, x []float32, ldx, batch int, training bool) ([]float32, int) {
	l.active = training && l.Rate > 0
	if !l.active {
		return x, ldx
	}
	w := l.width
	mult, out := growTo(&l.mult, batch*w), growTo(&l.out, batch*w)
	keepMask(l.r, mult, l.Rate, 1)
	alphaP := float32(-seluAlpha * seluScale)
	for i := range batch {
		xr, mr, or := x[i*ldx:i*ldx+w], mult[i*w:(i+1)*w], out[i*w:(i+1)*w]
		for j, v := range xr {
			k := mr[j]
			or[j] = l.a*(v*k+alphaP*(1-k)) + l.b
		}
	}
	// dLoss/dx = a·kept·g.
	for i, k := range mult {
		mult[i] = l.a * k
	}
	return out, w
}

// GaussianNoise is keras.layers.GaussianNoise (keras/src/layers/
// regularization/gaussian_noise.py): while training, x + N(0, stddev²).
type GaussianNoise struct {
	noise
	Stddev float32
}

func newGaussianNoiseFromConfig(c *configReader) (Layer, error) {
	l := &GaussianNoise{noise: noise{elementwise: elementwise{name: c.name}}}
	// Keras refuses a stddev above 1 (gaussian_noise.py); cifarnet trains
	// it, and runs trained with one before stay readable.
	l.Stddev = float32(c.float("stddev", 0, 0, math.MaxFloat32))
	if _, ok := c.in["stddev"]; !ok && c.err == nil {
		c.fail("stddev", "required")
	}
	c.seedField()
	return l, nil
}

// Forward implements Layer.
func (l *GaussianNoise) Forward(_ *tensor.Engine, x []float32, ldx, batch int, training bool) ([]float32, int) {
	// The gradient passes through unchanged: active stays false.
	if !training || l.Stddev <= 0 {
		return x, ldx
	}
	w := l.width
	out := growTo(&l.out, batch*w)
	sd := float64(l.Stddev)
	for i := range batch {
		xr, or := x[i*ldx:i*ldx+w], out[i*w:(i+1)*w]
		for j, v := range xr {
			or[j] = v + float32(sd*l.r.NormFloat64())
		}
	}
	return out, w
}

// GaussianDropout is keras.layers.GaussianDropout (keras/src/layers/
// regularization/gaussian_dropout.py): while training (0 < rate < 1),
// x·N(1, rate/(1-rate)).
type GaussianDropout struct {
	noise
	Rate float32 // as read; the noise uses sd, set with it from the config
	sd   float64 // sqrt(rate/(1-rate)), from the rate as given (Keras's Python)
}

func newGaussianDropoutFromConfig(c *configReader) (Layer, error) {
	l := &GaussianDropout{noise: noise{elementwise: elementwise{name: c.name}}}
	rate := c.rateField()
	l.Rate, l.sd = float32(rate), math.Sqrt(rate/(1-rate))
	c.seedField()
	return l, nil
}

// Forward implements Layer.
func (l *GaussianDropout) Forward(_ *tensor.Engine, x []float32, ldx, batch int, training bool) ([]float32, int) {
	l.active = training && l.Rate > 0 && l.Rate < 1
	if !l.active {
		return x, ldx
	}
	w := l.width
	mult, out := growTo(&l.mult, batch*w), growTo(&l.out, batch*w)
	for i := range mult {
		mult[i] = float32(1 + l.sd*l.r.NormFloat64())
	}
	return multiply(out, x, ldx, mult, batch, w), w
}
