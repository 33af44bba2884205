package nn

import (
	"fmt"
	"math"

	"github.com/cifarnet/cifarnet/tensor"
)

// elementwise is the part every shape-keeping layer shares: a name, a
// width, no variables.
type elementwise struct {
	configured
	name  string
	width int
}

func (l *elementwise) Name() string { return l.name }

func (l *elementwise) Build(in int) error {
	if _, err := l.outputWidth(in); err != nil {
		return err
	}
	l.width = in
	return nil
}

func (l *elementwise) outputWidth(in int) (int, error) {
	if in <= 0 {
		return 0, fmt.Errorf("%s: input width %d must be positive", l.name, in)
	}
	return in, nil
}

func (l *elementwise) OutputWidth() int      { return l.width }
func (l *elementwise) Params() []Param       { return nil }
func (l *elementwise) Variables() []Variable { return nil }
func (l *elementwise) copyIn(dst, x []float32, ldx, batch int) {
	w := l.width
	if ldx == w {
		copy(dst, x[:batch*w])
		return
	}
	for i := range batch {
		copy(dst[i*w:(i+1)*w], x[i*ldx:i*ldx+w])
	}
}

// ActivationLayer is keras.layers.Activation (keras/src/layers/activations/
// activation.py): an activation applied on its own.
type ActivationLayer struct {
	elementwise
	Act        Activation
	zeros, out []float32
	z          []float32
}

func newActivationFromConfig(c *configReader) (Layer, error) {
	return &ActivationLayer{elementwise: elementwise{name: c.name}, Act: c.activationField("activation")}, nil
}

// Forward implements Layer.
func (l *ActivationLayer) Forward(e *tensor.Engine, x []float32, ldx, batch int, _ bool) ([]float32, int) {
	w := l.width
	out := growTo(&l.out, batch*w)
	l.copyIn(out, x, ldx, batch)
	if l.Act.NeedInput {
		copy(growTo(&l.z, batch*w), out)
	}
	l.Act.Forward(e, out, growTo(&l.zeros, w), batch)
	return out, w
}

// Backward implements Layer.
func (l *ActivationLayer) Backward(e *tensor.Engine, g []float32, batch int, _ bool) []float32 {
	n := batch * l.width
	var z []float32
	if l.Act.NeedInput {
		z = l.z[:n]
	}
	l.Act.Backward(e, g[:n], l.out[:n], z, l.width)
	return g[:n]
}

// Rescaling is keras.layers.Rescaling (keras/src/layers/preprocessing/
// rescaling.py): x·scale + offset, with scalar scale and offset.
type Rescaling struct {
	elementwise
	Scale, Offset float32
	out           []float32
}

func newRescalingFromConfig(c *configReader) (Layer, error) {
	l := &Rescaling{elementwise: elementwise{name: c.name}}
	l.Scale = float32(c.float("scale", 1, -math.MaxFloat32, math.MaxFloat32))
	if _, ok := c.in["scale"]; !ok && c.err == nil {
		c.fail("scale", "required")
	}
	l.Offset = float32(c.float("offset", 0, -math.MaxFloat32, math.MaxFloat32))
	return l, nil
}

// Forward implements Layer.
func (l *Rescaling) Forward(_ *tensor.Engine, x []float32, ldx, batch int, _ bool) ([]float32, int) {
	w := l.width
	out := growTo(&l.out, batch*w)
	for i := range batch {
		xr, or := x[i*ldx:i*ldx+w], out[i*w:(i+1)*w]
		for j, v := range xr {
			or[j] = v*l.Scale + l.Offset
		}
	}
	return out, w
}

// Backward implements Layer.
func (l *Rescaling) Backward(_ *tensor.Engine, g []float32, batch int, _ bool) []float32 {
	g = g[:batch*l.width]
	for i := range g {
		g[i] *= l.Scale
	}
	return g
}

// Flatten is keras.layers.Flatten (keras/src/layers/reshaping/flatten.py):
// on the flat rows cifarnet feeds a network it passes its input through.
type Flatten struct{ elementwise }

func newFlattenFromConfig(c *configReader) (Layer, error) {
	c.fixed("data_format", "channels_last")
	return &Flatten{elementwise{name: c.name}}, nil
}

// Forward implements Layer.
func (l *Flatten) Forward(_ *tensor.Engine, x []float32, ldx, _ int, _ bool) ([]float32, int) {
	return x, ldx
}

// Backward implements Layer.
func (l *Flatten) Backward(_ *tensor.Engine, g []float32, batch int, _ bool) []float32 {
	return g[:batch*l.width]
}
