package nn

import (
	"math"
)

// Regularizer is keras.regularizers.L1L2 (keras/src/regularizers/
// regularizers.py), which L1 and L2 are special cases of: it adds
// L1·Σ|w| + L2·Σw² to the loss.
type Regularizer struct {
	L1, L2 float32
}

// Loss returns the penalty of w, summed in float32 as Keras sums it.
func (r *Regularizer) Loss(w []float32) float32 {
	var l1, l2 float32
	for _, v := range w {
		l1 += float32(math.Abs(float64(v)))
		l2 += v * v
	}
	return r.L1*l1 + r.L2*l2
}

// AddGradient adds the penalty's gradient, L1·sign(w) + 2·L2·w, to g.
func (r *Regularizer) AddGradient(g, w []float32) {
	g = g[:len(w)]
	for i, v := range w {
		s := float32(0)
		if v > 0 {
			s = 1
		} else if v < 0 {
			s = -1
		}
		g[i] += r.L1*s + 2*r.L2*v
	}
}

// Penalize returns the penalty of w (0 for a nil regularizer) and, when
// addGrad, adds its gradient to g: one regularized variable's share of
// a layer's regularization.
func (r *Regularizer) Penalize(w, g []float32, addGrad bool) float32 {
	if r == nil {
		return 0
	}
	if addGrad {
		r.AddGradient(g, w)
	}
	return r.Loss(w)
}

// regularizerField reads a regularizer field: null, "l1", "l2", "l1l2"
// (Keras's names; also "l1_l2", its function's), or a serialized L1, L2 or
// L1L2.
func (c *configReader) regularizerField(field string) *Regularizer {
	o, ok := c.object(field)
	if !ok {
		c.out[field] = nil
		return nil
	}
	if o.class == "L1l2" || o.class == "L1L2" { // "l1l2", Keras's snake_case name; "l1_l2", its function's
		o.class = "L1L2"
	}
	s := c.sub(field, o)
	r := &Regularizer{}
	switch o.class {
	case "L1":
		r.L1 = float32(s.float("l1", 0.01, 0, math.MaxFloat32))
	case "L2":
		r.L2 = float32(s.float("l2", 0.01, 0, math.MaxFloat32))
	case "L1L2":
		r.L1 = float32(s.float("l1", 0, 0, math.MaxFloat32))
		r.L2 = float32(s.float("l2", 0, 0, math.MaxFloat32))
	default:
		c.fail(field, "%v", unsupported("regularizer", o.class, []string{"l1", "l2", "l1l2 (or l1_l2)"}))
		return nil
	}
	c.done(s)
	c.out[field] = serialize("keras.regularizers", o.class, s.out)
	return r
}

// Constraint is one of keras.constraints (keras/src/constraints/
// constraints.py) for a 2-D kernel (axis 0: each unit's incoming weights)
// or a vector: applied to the variable after every optimizer step.
type Constraint struct {
	Kind string // "max_norm", "non_neg", "unit_norm", "min_max_norm"
	// MinValue, MaxValue and Rate of max_norm and min_max_norm.
	MinValue, MaxValue, Rate float32
}

// constraintEpsilon is Keras's backend.epsilon().
const constraintEpsilon = 1e-7

// Apply constrains w (rows x cols, row-major; a vector is 1 x len) in place.
func (c *Constraint) Apply(w []float32, rows, cols int) {
	if c.Kind == "non_neg" {
		for i, v := range w {
			if v < 0 {
				w[i] = 0
			}
		}
		return
	}
	// The norms of the columns (axis 0).
	for j := range cols {
		var sq float32
		for i := range rows {
			v := w[i*cols+j]
			sq += v * v
		}
		norm := float32(math.Sqrt(float64(sq)))
		var desired float32
		switch c.Kind {
		case "max_norm":
			desired = min(max(norm, 0), c.MaxValue)
		case "unit_norm":
			desired = 1
		case "min_max_norm":
			desired = c.Rate*min(max(norm, c.MinValue), c.MaxValue) + (1-c.Rate)*norm
		}
		f := desired / (constraintEpsilon + norm)
		for i := range rows {
			w[i*cols+j] *= f
		}
	}
}

// constraintField reads a constraint field: null or a serialized MaxNorm,
// NonNeg, UnitNorm or MinMaxNorm (axis 0, Keras's default).
func (c *configReader) constraintField(field string) *Constraint {
	o, ok := c.object(field)
	if !ok {
		c.out[field] = nil
		return nil
	}
	s := c.sub(field, o)
	k := &Constraint{}
	switch o.class {
	case "MaxNorm":
		k.Kind = "max_norm"
		k.MaxValue = float32(s.float("max_value", 2, 0, math.MaxFloat32))
		s.fixed("axis", 0)
	case "NonNeg":
		k.Kind = "non_neg"
	case "UnitNorm":
		k.Kind = "unit_norm"
		s.fixed("axis", 0)
	case "MinMaxNorm":
		k.Kind = "min_max_norm"
		k.MinValue = float32(s.float("min_value", 0, 0, math.MaxFloat32))
		k.MaxValue = float32(s.float("max_value", 1, float64(k.MinValue), math.MaxFloat32))
		k.Rate = float32(s.float("rate", 1, 0, 1))
		s.fixed("axis", 0)
	default:
		c.fail(field, "%v", unsupported("constraint", o.class, []string{"max_norm", "non_neg", "unit_norm", "min_max_norm"}))
		return nil
	}
	c.done(s)
	c.out[field] = serialize("keras.constraints", o.class, s.out)
	return k
}
