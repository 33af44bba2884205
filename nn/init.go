package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// An Initializer fills a kernel of shape fanIn x fanOut (a vector: fanIn =
// fanOut = its length), as keras.initializers do
// (keras/src/initializers/random_initializers.py, constant_initializers.py).
type Initializer func(r *rand.Rand, w []float32, fanIn, fanOut int)

// truncatedNormalScale corrects the standard deviation of a normal truncated
// at two standard deviations back to the requested one (Keras 3's constant:
// the sd of a standard normal truncated to [-2, 2]).
const truncatedNormalScale = 0.87962566103423978

// initializerClasses maps each Keras initializer class to its maker, which
// reads the class's config (defaults filled in by the reader).
var initializerClasses = map[string]func(c *configReader) Initializer{
	"HeNormal":      fixedVS(2, "fan_in", "truncated_normal"),
	"HeUniform":     fixedVS(2, "fan_in", "uniform"),
	"GlorotNormal":  fixedVS(1, "fan_avg", "truncated_normal"),
	"GlorotUniform": fixedVS(1, "fan_avg", "uniform"),
	"LecunNormal":   fixedVS(1, "fan_in", "truncated_normal"),
	"LecunUniform":  fixedVS(1, "fan_in", "uniform"),
	"VarianceScaling": func(c *configReader) Initializer {
		scale := c.float("scale", 1, math.SmallestNonzeroFloat64, math.MaxFloat64)
		mode := c.str("mode", "fan_in")
		dist := strings.ToLower(c.str("distribution", "truncated_normal")) // as Keras reads it
		vsAxes(c)
		if dist == "normal" {
			dist = "truncated_normal"
		}
		switch {
		case mode != "fan_in" && mode != "fan_out" && mode != "fan_avg":
			c.fail("mode", "want fan_in, fan_out or fan_avg, got %q", mode)
		case dist != "truncated_normal" && dist != "untruncated_normal" && dist != "uniform":
			c.fail("distribution", "want truncated_normal, untruncated_normal or uniform, got %q", dist)
		}
		c.out["distribution"] = dist
		return varianceScaling(scale, mode, dist)
	},
	"RandomNormal": func(c *configReader) Initializer {
		mean, sd := c.float("mean", 0, -math.MaxFloat32, math.MaxFloat32), c.float("stddev", 0.05, 0, math.MaxFloat32)
		return func(r *rand.Rand, w []float32, _, _ int) {
			for i := range w {
				w[i] = float32(mean + sd*r.NormFloat64())
			}
		}
	},
	"TruncatedNormal": func(c *configReader) Initializer {
		mean, sd := c.float("mean", 0, -math.MaxFloat32, math.MaxFloat32), c.float("stddev", 0.05, 0, math.MaxFloat32)
		return func(r *rand.Rand, w []float32, _, _ int) {
			for i := range w {
				w[i] = float32(mean + sd*truncNorm(r))
			}
		}
	},
	"RandomUniform": func(c *configReader) Initializer {
		lo, hi := c.float("minval", -0.05, -math.MaxFloat32, math.MaxFloat32), c.float("maxval", 0.05, -math.MaxFloat32, math.MaxFloat32)
		return func(r *rand.Rand, w []float32, _, _ int) {
			for i := range w {
				w[i] = float32(lo + (hi-lo)*r.Float64())
			}
		}
	},
	"Orthogonal": func(c *configReader) Initializer {
		gain := c.float("gain", 1, -math.MaxFloat32, math.MaxFloat32)
		return func(r *rand.Rand, w []float32, fanIn, fanOut int) { orthogonal(r, w, fanIn, fanOut, gain) }
	},
	"Zeros": func(c *configReader) Initializer { return constant(0) },
	"Ones":  func(c *configReader) Initializer { return constant(1) },
	"Constant": func(c *configReader) Initializer {
		return constant(float32(c.float("value", 0, -math.MaxFloat32, math.MaxFloat32)))
	},
}

// initializerAliases maps each name Keras 3 reads an initializer by, as a
// plain name or a class_name, to its class, as ALL_OBJECTS_DICT in
// keras/src/initializers/__init__.py does: the class names, their
// snake_case forms, and the aliases normal, uniform, one, zero and
// OrthogonalInitializer (Orthogonal's class name before Keras 3.7, which
// Keras 3.0-3.6 files serialize; orthogonal_initializer its snake_case).
var initializerAliases = func() map[string]string {
	m := map[string]string{
		"normal": "RandomNormal", "uniform": "RandomUniform", "one": "Ones", "zero": "Zeros",
		"OrthogonalInitializer": "Orthogonal", "orthogonal_initializer": "Orthogonal",
	}
	for class := range initializerClasses {
		m[class], m[snake(class)] = class, class
	}
	return m
}()

// randomInitializers take a seed (Keras's RandomInitializer).
var deterministicInitializers = map[string]bool{"Zeros": true, "Ones": true, "Constant": true}

func fixedVS(scale float64, mode, dist string) func(*configReader) Initializer {
	return func(c *configReader) Initializer {
		vsAxes(c)
		return varianceScaling(scale, mode, dist)
	}
}

// vsAxes reads VarianceScaling's input_axes and output_axes (Keras 3.15+,
// written null by its every subclass: HeNormal, GlorotUniform, ...), which
// only null (the fans of the kernel's two axes) is supported at.
func vsAxes(c *configReader) {
	for _, f := range []string{"input_axes", "output_axes"} {
		c.newerDefault(f, "null (the fans of the weight's own axes)", func(v any) bool { return v == nil })
	}
}

// InitializerNames lists the initializer names LookupInitializer accepts
// (Keras's snake_case aliases).
func InitializerNames() []string {
	names := make([]string, 0, len(initializerClasses))
	for class := range initializerClasses {
		names = append(names, snake(class))
	}
	sort.Strings(names)
	return names
}

// LookupInitializer returns the initializer with the given Keras name
// ("he_normal") or class ("HeNormal"), with its default config.
func LookupInitializer(name string) (Initializer, error) {
	c := &configReader{class: "initializer", name: name, in: map[string]any{}, out: map[string]any{}}
	init, _, err := c.initializer("initializer", kerasObject{class: camel(name), config: map[string]any{}, name: name})
	if err != nil {
		return nil, fmt.Errorf("unknown initializer %q (want one of %v)", name, InitializerNames())
	}
	return init, nil
}

// initializerClass is the class of initializer o, through any name Keras
// reads it by (initializerAliases).
func initializerClass(o kerasObject) string {
	if class, ok := initializerAliases[o.name]; ok {
		return class
	}
	return o.class
}

// initializer makes an initializer of o, returning its serialized config.
func (c *configReader) initializer(field string, o kerasObject) (Initializer, map[string]any, error) {
	o.class = initializerClass(o)
	mk, ok := initializerClasses[o.class]
	if !ok {
		return nil, nil, fmt.Errorf("layer %q (%s): %s: %v", c.name, c.class, field, unsupported("initializer", o.class, InitializerNames()))
	}
	s := c.sub(field, o)
	init := mk(s)
	if !deterministicInitializers[o.class] {
		// A seeded initializer draws from its own stream: the same values at
		// every call, as Keras's integer seed gives.
		if v, ok := s.get("seed"); ok {
			f, isNum := toFloat(v)
			if !isNum || f != math.Trunc(f) || f < 0 || f > 1<<53 {
				s.fail("seed", "want a non-negative whole number or null, got %s", compact(v))
			} else {
				seed, inner := uint64(f), init
				init = func(_ *rand.Rand, w []float32, fanIn, fanOut int) {
					inner(rand.New(rand.NewPCG(seed, streamInit)), w, fanIn, fanOut)
				}
			}
			s.out["seed"] = v
		} else {
			s.out["seed"] = nil
		}
	}
	c.done(s)
	if s.err != nil {
		return nil, nil, s.err
	}
	return init, serialize("keras.initializers", o.class, s.out), nil
}

// initializerField reads an initializer field with Keras's default class.
func (c *configReader) initializerField(field, def string) Initializer {
	return c.initializerOf(field, def, 2)
}

// vectorInitializerField is initializerField for a 1-D weight (a bias,
// a normalization's gamma and beta): Orthogonal, which needs a matrix,
// is refused where the weight is built, as Keras's Orthogonal.__call__
// refuses a shape of fewer than two dimensions
// (keras/src/initializers/random_initializers.py); Keras never calls the
// initializer of a weight it does not build (use_bias=False).
func (c *configReader) vectorInitializerField(field, def string, built bool) Initializer {
	if !built {
		return c.initializerOf(field, def, 2)
	}
	return c.initializerOf(field, def, 1)
}

func (c *configReader) initializerOf(field, def string, dims int) Initializer {
	o, ok := c.object(field)
	if !ok {
		o = kerasObject{class: def, config: map[string]any{}}
	}
	if dims < 2 && initializerClass(o) == "Orthogonal" {
		if c.err == nil {
			c.err = fmt.Errorf("layer %q (%s): %s: Orthogonal initializes a matrix of at least 2 dimensions, and this weight is a vector (Keras refuses it too)", c.name, c.class, field)
		}
		return nil
	}
	init, out, err := c.initializer(field, o)
	if err != nil {
		if c.err == nil {
			c.err = err
		}
		return nil
	}
	c.out[field] = out
	return init
}

// varianceScaling is keras.initializers.VarianceScaling: variance scale/n
// with n = fan_in, fan_out or (fan_in+fan_out)/2, at least 1.
func varianceScaling(scale float64, mode, dist string) Initializer {
	return func(r *rand.Rand, w []float32, fanIn, fanOut int) {
		n := float64(fanIn)
		switch mode {
		case "fan_avg":
			n = float64(fanIn+fanOut) / 2
		case "fan_out":
			n = float64(fanOut)
		}
		variance := scale / max(1, n)
		switch dist {
		case "truncated_normal":
			sd := math.Sqrt(variance) / truncatedNormalScale
			for i := range w {
				w[i] = float32(sd * truncNorm(r))
			}
		case "untruncated_normal":
			sd := math.Sqrt(variance)
			for i := range w {
				w[i] = float32(sd * r.NormFloat64())
			}
		case "uniform":
			limit := math.Sqrt(3 * variance)
			for i := range w {
				w[i] = float32(limit * (2*r.Float64() - 1))
			}
		}
	}
}

// truncNorm draws a standard normal conditioned on |x| <= 2, by rejection
// (the same distribution as tf.random.truncated_normal).
func truncNorm(r *rand.Rand) float64 {
	for {
		if x := r.NormFloat64(); math.Abs(x) <= 2 {
			return x
		}
	}
}

func constant(v float32) Initializer {
	return func(_ *rand.Rand, w []float32, _, _ int) {
		for i := range w {
			w[i] = v
		}
	}
}

// orthogonal is keras.initializers.Orthogonal for a rows x cols matrix:
// the Q factor (with R's diagonal made positive) of a normal matrix of
// shape max x min, transposed when rows < cols, times gain. Q is computed
// by modified Gram-Schmidt in float64, which gives that same Q.
func orthogonal(r *rand.Rand, w []float32, rows, cols int, gain float64) {
	long, short := max(rows, cols), min(rows, cols)
	// q holds short column vectors of length long, column-major.
	q := make([]float64, long*short)
	for i := range q {
		q[i] = r.NormFloat64()
	}
	for j := range short {
		cj := q[j*long : (j+1)*long]
		for k := range j {
			ck := q[k*long : (k+1)*long]
			var dot float64
			for i := range cj {
				dot += ck[i] * cj[i]
			}
			for i := range cj {
				cj[i] -= dot * ck[i]
			}
		}
		var norm float64
		for _, v := range cj {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		for i := range cj {
			cj[i] /= norm
		}
	}
	for i := range rows {
		for j := range cols {
			v := 0.0
			if rows >= cols {
				v = q[j*long+i] // Q[i][j]
			} else {
				v = q[i*long+j] // Qᵀ[i][j]
			}
			w[i*cols+j] = float32(gain * v)
		}
	}
}

// snake turns a class name into Keras's alias: HeNormal -> he_normal.
func snake(s string) string {
	var b []rune
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 && !(s[i-1] >= '0' && s[i-1] <= '9') {
				b = append(b, '_')
			}
			r += 'a' - 'A'
		}
		b = append(b, r)
	}
	return string(b)
}
