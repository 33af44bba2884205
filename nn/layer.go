package nn

import (
	"math/rand/v2"

	"github.com/cifarnet/cifarnet/tensor"
)

// Layer is one layer of a Sequential model, as keras.layers.Layer is: it is
// built for an input width, maps a batch forward (in training or inference
// mode) and its gradient backward, and owns its variables.
//
// Batches are row-major, one sample per row. An input's rows may lie ldx
// floats apart (ldx >= the input width, see tensor.PaddedStride); a
// gradient's rows are always contiguous.
type Layer interface {
	// Name is the layer's Keras name ("dense", "batch_normalization_1"):
	// its variables are saved as Name + "/" + variable name.
	Name() string
	// Build allocates the layer's variables for inputs of width in; it is
	// called once, by NewSequential, before anything else.
	Build(in int) error
	// OutputWidth is the number of values per sample the layer emits.
	OutputWidth() int
	// Forward maps batch rows of x, ldx floats apart, to the layer's output
	// and returns it with its row stride. The output stays valid until the
	// next Forward (it may be x itself for a layer that passes its input
	// through). training selects Keras's training behaviour (batch
	// statistics, dropout) over inference.
	Forward(e *tensor.Engine, x []float32, ldx, batch int, training bool) (y []float32, ldy int)
	// Backward takes g = dLoss/dy of the last Forward (batch x
	// OutputWidth, contiguous; the layer may overwrite it), stores the
	// gradients of its trainable parameters, and returns dLoss/dx (batch x
	// input width, contiguous) when needDX, else nil.
	Backward(e *tensor.Engine, g []float32, batch int, needDX bool) []float32
	// Params lists the trainable variables with their gradients.
	Params() []Param
	// Variables lists every variable, trainable or not, in Keras's order
	// (layer.weights): these are what is saved and restored.
	Variables() []Variable
}

// Param is one trainable tensor with its gradient and Keras-style path.
type Param struct {
	Name  string // "dense/kernel", "dense/bias", "dense_1/kernel", ...
	Shape []int  // [in, out] for kernels, [out] for biases
	Value []float32
	Grad  []float32
}

// Variable is one tensor of a layer's state, trainable or not (Batch
// Normalization's moving_mean), under its Keras path.
type Variable struct {
	Name      string // "dense/kernel", "batch_normalization/moving_mean", ...
	Shape     []int
	Value     []float32
	Trainable bool
	// Optional variables may be missing from a weights file written before
	// they were saved (Normalization's count): loading leaves them as
	// they are.
	Optional bool
}

// initializable layers draw their initial weights from the model's
// initialisation stream, in layer order.
type initializable interface {
	initialize(r *rand.Rand)
}

// random layers draw from the model's layer stream while training (dropout
// masks, noise); it does not depend on the thread count.
type random interface {
	useRand(r *rand.Rand)
}

// regularized layers add penalties on their weights to the loss (and, with
// addGrad, their gradients to the weights' gradients).
type regularized interface {
	regularization(addGrad bool) float32
}

// constrained layers constrain their weights after each optimizer step.
type constrained interface {
	constrain()
}

func growTo(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}
