package train

import (
	"math"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
)

// mcEpsilon is Keras's backend.epsilon(), the clip of a probability before
// its log in the cross-entropy of probabilities.
const mcEpsilon = 1e-7

// EvaluateMC is Monte Carlo dropout (Gal and Ghahramani, 2016): every
// sample's class probabilities are the mean of samples stochastic forward
// passes, the random layers (dropout, noise) active and every other layer
// (Batch Normalization) at inference, drawn from seed. The loss is the
// cross-entropy of those mean probabilities (clipped to [1e-7, 1-1e-7] as
// Keras clips probabilities), the accuracy that of their arg-max.
func EvaluateMC(e *tensor.Engine, m *nn.Sequential, x Inputs, y []int32, batchSize, samples int, seed uint64) Result {
	n, classes := len(y), m.Outputs()
	ldx := tensor.PaddedStride(m.Inputs())
	xb := make([]float32, batchSize*ldx)
	idx := make([]int, batchSize)
	mean := make([]float32, batchSize*classes)
	pred := make([]int32, n)
	m.SeedRandom(seed)
	var lossSum float64
	var correct int
	for lo := 0; lo < n; lo += batchSize {
		hi := min(n, lo+batchSize)
		b := hi - lo
		for i := range b {
			idx[i] = lo + i
		}
		x.Gather(e, xb, ldx, idx[:b])
		probs := mean[:b*classes]
		clear(probs)
		for range samples {
			logits := m.ForwardMC(e, xb, ldx, b)
			p := logits[:b*classes]
			nn.Softmax(p, classes)
			for i, v := range p {
				probs[i] += v
			}
		}
		for i := range b {
			row := probs[i*classes : (i+1)*classes]
			for j := range row {
				row[j] /= float32(samples)
			}
			pred[lo+i] = argmax(row)
			if pred[lo+i] == y[lo+i] {
				correct++
			}
			p := min(max(float64(row[y[lo+i]]), mcEpsilon), 1-mcEpsilon)
			lossSum -= math.Log(p)
		}
	}
	if n == 0 {
		return Result{}
	}
	return Result{Loss: lossSum / float64(n), Accuracy: float64(correct) / float64(n), Predicted: pred}
}
