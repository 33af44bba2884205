package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/cifarnet/cifarnet/tensor"
)

// Dense is keras.layers.Dense (keras/src/layers/core/dense.py):
// out = activation(x·Kernel + Bias), with Keras's use_bias, initializers,
// regularizers (their penalty joins the loss) and constraints (applied
// after each optimizer step).
//
// Shapes, for a batch of b rows:
//
//	x      b x In      input of the last Forward (borrowed, not copied), rows ldx apart
//	Kernel In x Out    row-major, Keras's kernel layout
//	Bias   Out         (empty without use_bias)
//	z      b x Out     pre-activations, kept only for activations that need them
//	out    b x Out     activations of the last Forward
//	dx     b x In      gradient w.r.t. x from the last Backward
type Dense struct {
	configured
	In, Out int
	Act     Activation
	// KernelInit draws the initial kernel (Keras's default glorot_uniform);
	// BiasInit the bias (nil: zeros, Keras's default).
	KernelInit, BiasInit Initializer
	UseBias              bool
	// Regularizers and constraints of the kernel and bias (nil: none).
	KernelRegularizer, BiasRegularizer *Regularizer
	KernelConstraint, BiasConstraint   *Constraint

	Kernel []float32
	Bias   []float32
	// DKernel and DBias hold the gradients of the last Backward.
	DKernel, DBias []float32

	name  string
	zeros []float32 // the bias of a layer without one
	x     []float32
	ldx   int
	z     []float32
	out   []float32
	dx    []float32
	rows  kernelRows // backward's epilogue with an Updater
}

// maxKernel bounds a kernel's size (1 GiB of float32, twice with its
// gradient) before it is allocated.
const maxKernel = 1 << 28

// NewDense returns an unbuilt Dense layer of units outputs with a bias.
func NewDense(name string, units int, act Activation, kernelInit Initializer) *Dense {
	return &Dense{name: name, Out: units, Act: act, KernelInit: kernelInit, UseBias: true}
}

func newDenseFromConfig(c *configReader) (Layer, error) {
	d := &Dense{name: c.name}
	d.Out = c.integer("units", 0, 1, 1<<24)
	if d.Out == 0 && c.err == nil {
		c.fail("units", "required")
	}
	d.Act = c.activationField("activation")
	d.UseBias = c.boolean("use_bias", true)
	d.KernelInit = c.initializerField("kernel_initializer", "GlorotUniform")
	d.BiasInit = c.vectorInitializerField("bias_initializer", "Zeros", d.UseBias)
	d.KernelRegularizer = c.regularizerField("kernel_regularizer")
	d.BiasRegularizer = c.regularizerField("bias_regularizer")
	c.null("activity_regularizer", "an activity regularizer")
	d.KernelConstraint = c.constraintField("kernel_constraint")
	d.BiasConstraint = c.constraintField("bias_constraint")
	// Keras writes lora_rank and lora_alpha only for a LoRA layer, and
	// quantization_config (Keras 3.13+) always, null when not quantized
	// (get_config in keras/src/layers/core/dense.py). Read here as they
	// are; model files leave out those older Keras refuses (Portable).
	c.null("lora_rank", "LoRA")
	if v, ok := c.in["lora_alpha"]; ok { // means nothing without lora_rank
		c.out["lora_alpha"] = v
	}
	c.null("quantization_config", "quantization")
	return d, nil
}

// activationField reads an activation name (Keras serializes activations
// as their names).
func (c *configReader) activationField(field string) Activation {
	name := c.str(field, "linear")
	a, err := LookupActivation(name)
	if err != nil {
		c.fail(field, "%v", err)
	}
	return a
}

// Name implements Layer.
func (d *Dense) Name() string { return d.name }

// Build implements Layer: zero weights for inputs of width in.
func (d *Dense) Build(in int) error {
	if _, err := d.outputWidth(in); err != nil {
		return err
	}
	d.In = in
	d.Kernel, d.DKernel = make([]float32, in*d.Out), make([]float32, in*d.Out)
	if d.UseBias {
		d.Bias, d.DBias = make([]float32, d.Out), make([]float32, d.Out)
	} else {
		d.zeros = make([]float32, d.Out)
	}
	return nil
}

func (d *Dense) outputWidth(in int) (int, error) {
	if in <= 0 || d.Out <= 0 {
		return 0, fmt.Errorf("%s: input width %d and units %d must be positive", d.name, in, d.Out)
	}
	if int64(in)*int64(d.Out) > maxKernel {
		return 0, fmt.Errorf("%s: a %d x %d kernel is too large (at most %d values)", d.name, in, d.Out, maxKernel)
	}
	return d.Out, nil
}

// OutputWidth implements Layer.
func (d *Dense) OutputWidth() int { return d.Out }

func (d *Dense) initialize(r *rand.Rand) {
	if d.KernelInit != nil {
		d.KernelInit(r, d.Kernel, d.In, d.Out)
	}
	if d.BiasInit != nil && d.UseBias {
		d.BiasInit(r, d.Bias, d.Out, d.Out)
	}
}

// Forward implements Layer; the output is contiguous (b x Out).
func (d *Dense) Forward(e *tensor.Engine, x []float32, ldx, batch int, _ bool) ([]float32, int) {
	d.x, d.ldx = x[:(batch-1)*ldx+d.In], ldx
	out := growTo(&d.out, batch*d.Out)
	// out = x·Kernel, then + bias and the activation.
	e.Gemm(false, false, batch, d.Out, d.In, d.x, d.ldx, d.Kernel, d.Out, out, d.Out, false)
	bias := d.Bias
	if !d.UseBias {
		bias = d.zeros
	}
	if d.Act.NeedInput {
		tensor.BiasAdd(out, bias, batch)
		copy(growTo(&d.z, batch*d.Out), out)
		bias = d.zeros
		if bias == nil {
			d.zeros = make([]float32, d.Out)
			bias = d.zeros
		}
	}
	d.Act.Forward(e, out, bias, batch)
	return out, d.Out
}

// Backward implements Layer: g = dLoss/dout (b x Out) is overwritten with
// dLoss/dz; dLoss/dKernel and dLoss/dBias are stored; dLoss/dx (b x In) is
// returned when needDX. The first layer needs no dx.
func (d *Dense) Backward(e *tensor.Engine, g []float32, batch int, needDX bool) []float32 {
	return d.backward(e, g, batch, needDX, nil, 0)
}

// backward is Backward, followed, if u is not nil, by u's step on the
// layer's parameters (its parameters k, the kernel, and k+1, the bias)
// with their regularizers' gradients added first: dx is computed first,
// from the kernel before its step, then the kernel's gradient, block by
// block of rows into a scratch block (GemmBlocks), each block stepped on
// the thread that computed it while it is in the caches; DKernel is not
// written, which spares the memory its bytes would cross twice a step.
func (d *Dense) backward(e *tensor.Engine, g []float32, batch int, needDX bool, u Updater, k int) []float32 {
	n := batch * d.Out
	g = g[:n]
	var z []float32
	if d.Act.NeedInput {
		z = d.z[:n]
	}
	d.Act.Backward(e, g, d.out[:n], z, d.Out)
	var dx []float32
	if needDX {
		// dx = dz·Kernelᵀ   (b x Out)·(Out x In)
		dx = growTo(&d.dx, batch*d.In)
		e.Gemm(false, true, batch, d.In, d.Out, g, d.Out, d.Kernel, d.Out, dx, d.In, false)
	}
	// dKernel = xᵀ·dz   (In x b)·(b x Out)
	if u == nil {
		e.Gemm(true, false, d.In, d.Out, batch, d.x, d.ldx, g, d.Out, d.DKernel, d.Out, false)
	} else {
		d.rows = kernelRows{d: d, u: u, k: k}
		e.GemmBlocks(true, false, d.In, d.Out, batch, d.x, d.ldx, g, d.Out, d.Out, &d.rows)
		d.rows.u = nil
	}
	if d.UseBias {
		// dBias = column sums of dz, rows added in order.
		e.ColumnSums(d.DBias, g, batch)
		if u != nil {
			if r := d.BiasRegularizer; r != nil {
				r.AddGradient(d.DBias, d.Bias)
			}
			u.Update(k+1, 0, d.Out, d.DBias)
		}
	}
	return dx
}

// kernelRows is the epilogue of a Dense layer's kernel gradient in
// backward with an Updater: rows i0 to i1-1 of the kernel get their
// regularizer's gradient and are stepped by u, as parameter k.
type kernelRows struct {
	d *Dense
	u Updater
	k int
}

// Done implements tensor.Epilogue: c holds the rows' gradient.
func (r *kernelRows) Done(i0, i1 int, c []float32) {
	lo, hi := i0*r.d.Out, i1*r.d.Out
	grad := c[:hi-lo]
	if reg := r.d.KernelRegularizer; reg != nil {
		reg.AddGradient(grad, r.d.Kernel[lo:hi])
	}
	r.u.Update(r.k, lo, hi, grad)
}

// Params implements Layer: the kernel, then the bias.
func (d *Dense) Params() []Param {
	ps := []Param{{d.name + "/kernel", []int{d.In, d.Out}, d.Kernel, d.DKernel}}
	if d.UseBias {
		ps = append(ps, Param{d.name + "/bias", []int{d.Out}, d.Bias, d.DBias})
	}
	return ps
}

// Variables implements Layer.
func (d *Dense) Variables() []Variable { return paramVariables(d.Params()) }

// regularization implements regularized.
func (d *Dense) regularization(addGrad bool) float32 {
	l := d.KernelRegularizer.Penalize(d.Kernel, d.DKernel, addGrad)
	if d.UseBias {
		l += d.BiasRegularizer.Penalize(d.Bias, d.DBias, addGrad)
	}
	return l
}

// constrain implements constrained.
func (d *Dense) constrain() {
	if k := d.KernelConstraint; k != nil {
		k.Apply(d.Kernel, d.In, d.Out)
	}
	if k := d.BiasConstraint; k != nil && d.UseBias {
		k.Apply(d.Bias, d.Out, 1)
	}
}

// paramVariables lists trainable parameters as variables.
func paramVariables(ps []Param) []Variable {
	vs := make([]Variable, len(ps))
	for i, p := range ps {
		vs[i] = Variable{Name: p.Name, Shape: p.Shape, Value: p.Value, Trainable: true}
	}
	return vs
}
