package train

import (
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
)

// Inputs are the samples Fit and Evaluate read: Len rows of Width values.
// Rows are copied into a batch buffer when needed, so a data set need not
// be held as float32 in full.
type Inputs interface {
	Len() int
	Width() int
	// Slice returns the rows [from, to).
	Slice(from, to int) Inputs
	// Gather writes the rows idx into dst, ldx floats apart.
	Gather(e *tensor.Engine, dst []float32, ldx int, idx []int)
}

// Float32Rows are inputs already in memory as float32, row after row.
type Float32Rows struct {
	X []float32
	W int
}

func (f Float32Rows) Len() int   { return len(f.X) / f.W }
func (f Float32Rows) Width() int { return f.W }
func (f Float32Rows) Slice(from, to int) Inputs {
	return Float32Rows{f.X[from*f.W : to*f.W], f.W}
}
func (f Float32Rows) Gather(e *tensor.Engine, dst []float32, ldx int, idx []int) {
	e.Gather(dst, ldx, f.X, f.W, idx)
}

// PixelRows are uint8 pixels, scaled as Keras's x.astype('float32') / 255
// (the same float32 division, so the same bits) as they are gathered.
type PixelRows struct {
	Pixels []uint8
	W      int
}

func (p PixelRows) Len() int   { return len(p.Pixels) / p.W }
func (p PixelRows) Width() int { return p.W }
func (p PixelRows) Slice(from, to int) Inputs {
	return PixelRows{p.Pixels[from*p.W : to*p.W], p.W}
}
func (p PixelRows) Gather(e *tensor.Engine, dst []float32, ldx int, idx []int) {
	e.GatherBytes(dst, ldx, p.Pixels, p.W, idx, 255)
}

// adapt adapts the model's Normalization layers to the first n samples of
// x (the training split), as layer.adapt(x_train) does before fit.
func adapt(e *tensor.Engine, m *nn.Sequential, x Inputs, n, batchSize int) {
	idx := make([]int, batchSize)
	m.Adapt(e, n, batchSize, func(dst []float32, ldx, from, to int) {
		for i := range to - from {
			idx[i] = from + i
		}
		x.Gather(e, dst, ldx, idx[:to-from])
	})
}
