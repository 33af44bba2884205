package nn

import "github.com/cifarnet/cifarnet/tensor"

// Dense is keras.layers.Dense: out = activation(x·Kernel + Bias).
//
// Shapes, for a batch of b rows:
//
//	x      b x In      input of the last Forward (borrowed, not copied), rows ldx apart
//	Kernel In x Out    row-major, Keras's kernel layout
//	Bias   Out
//	out    b x Out     activations of the last Forward
//	dx     b x In      gradient w.r.t. x from the last Backward
type Dense struct {
	Name    string
	In, Out int
	Act     Activation
	Kernel  []float32
	Bias    []float32
	// DKernel and DBias hold the gradients of the last Backward.
	DKernel, DBias []float32

	x   []float32
	ldx int
	out []float32
	dx  []float32
}

// NewDense returns a layer with zero weights.
func NewDense(name string, in, out int, act Activation) *Dense {
	return &Dense{
		Name: name, In: in, Out: out, Act: act,
		Kernel: make([]float32, in*out), Bias: make([]float32, out),
		DKernel: make([]float32, in*out), DBias: make([]float32, out),
	}
}

// Forward computes the layer's activations for batch rows of x, ldx floats
// apart, and returns them (b x Out, contiguous); the slice is reused by the
// next call.
func (d *Dense) Forward(e *tensor.Engine, x []float32, ldx, batch int) []float32 {
	d.x, d.ldx = x[:(batch-1)*ldx+d.In], ldx
	out := growTo(&d.out, batch*d.Out)
	// out = x·Kernel, then + bias and the activation.
	e.Gemm(false, false, batch, d.Out, d.In, d.x, d.ldx, d.Kernel, d.Out, out, d.Out, false)
	d.Act.Forward(e, out, d.Bias, batch)
	return out
}

// Backward takes g = dLoss/dout (b x Out, overwritten with dLoss/dz),
// stores dLoss/dKernel and dLoss/dBias, and returns dLoss/dx (b x In) when
// needDX, else nil. The first layer needs no dx.
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

func growTo(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}
