package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/cifarnet/cifarnet/tensor"
)

// Dense is keras.layers.Dense (keras/src/layers/core/dense.py):
// out = activation(x·Kernel + Bias).
//
// Shapes, for a batch of b rows:
//
//	x      b x In      input of the last Forward (borrowed, not copied), rows ldx apart
//	Kernel In x Out    row-major, Keras's kernel layout
//	Bias   Out
//	out    b x Out     activations of the last Forward
//	dx     b x In      gradient w.r.t. x from the last Backward
type Dense struct {
	In, Out int
	Act     Activation
	// KernelInit draws the initial kernel (Keras's default glorot_uniform);
	// the bias starts at zero.
	KernelInit Initializer
	Kernel     []float32
	Bias       []float32
	// DKernel and DBias hold the gradients of the last Backward.
	DKernel, DBias []float32

	name string
	x    []float32
	ldx  int
	out  []float32
	dx   []float32
}

// NewDense returns an unbuilt Dense layer of units outputs.
func NewDense(name string, units int, act Activation, kernelInit Initializer) *Dense {
	return &Dense{name: name, Out: units, Act: act, KernelInit: kernelInit}
}

// Name implements Layer.
func (d *Dense) Name() string { return d.name }

// Build implements Layer: zero weights for inputs of width in.
func (d *Dense) Build(in int) error {
	if in <= 0 || d.Out <= 0 {
		return fmt.Errorf("%s: input width %d and units %d must be positive", d.name, in, d.Out)
	}
	d.In = in
	d.Kernel, d.Bias = make([]float32, in*d.Out), make([]float32, d.Out)
	d.DKernel, d.DBias = make([]float32, in*d.Out), make([]float32, d.Out)
	return nil
}

// OutputWidth implements Layer.
func (d *Dense) OutputWidth() int { return d.Out }

func (d *Dense) initialize(r *rand.Rand) {
	if d.KernelInit != nil {
		d.KernelInit(r, d.Kernel, d.In, d.Out)
	}
}

// Forward implements Layer; the output is contiguous (b x Out).
func (d *Dense) Forward(e *tensor.Engine, x []float32, ldx, batch int, _ bool) ([]float32, int) {
	d.x, d.ldx = x[:(batch-1)*ldx+d.In], ldx
	out := growTo(&d.out, batch*d.Out)
	// out = x·Kernel, then + bias and the activation.
	e.Gemm(false, false, batch, d.Out, d.In, d.x, d.ldx, d.Kernel, d.Out, out, d.Out, false)
	d.Act.Forward(e, out, d.Bias, batch)
	return out, d.Out
}

// Backward implements Layer: g = dLoss/dout (b x Out) is overwritten with
// dLoss/dz; dLoss/dKernel and dLoss/dBias are stored; dLoss/dx (b x In) is
// returned when needDX. The first layer needs no dx.
func (d *Dense) Backward(e *tensor.Engine, g []float32, batch int, needDX bool) []float32 {
	g = g[:batch*d.Out]
	d.Act.Backward(e, g, d.out[:batch*d.Out])
	// dKernel = xᵀ·dz   (In x b)·(b x Out)
	e.Gemm(true, false, d.In, d.Out, batch, d.x, d.ldx, g, d.Out, d.DKernel, d.Out, false)
	// dBias = column sums of dz, rows added in order.
	e.ColumnSums(d.DBias, g, batch)
	if !needDX {
		return nil
	}
	// dx = dz·Kernelᵀ   (b x Out)·(Out x In)
	dx := growTo(&d.dx, batch*d.In)
	e.Gemm(false, true, batch, d.In, d.Out, g, d.Out, d.Kernel, d.Out, dx, d.In, false)
	return dx
}

// Params implements Layer: the kernel, then the bias.
func (d *Dense) Params() []Param {
	return []Param{
		{d.name + "/kernel", []int{d.In, d.Out}, d.Kernel, d.DKernel},
		{d.name + "/bias", []int{d.Out}, d.Bias, d.DBias},
	}
}

// Variables implements Layer.
func (d *Dense) Variables() []Variable { return paramVariables(d.Params()) }

// paramVariables lists trainable parameters as variables.
func paramVariables(ps []Param) []Variable {
	vs := make([]Variable, len(ps))
	for i, p := range ps {
		vs[i] = Variable{Name: p.Name, Shape: p.Shape, Value: p.Value, Trainable: true}
	}
	return vs
}
