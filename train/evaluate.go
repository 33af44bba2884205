package train

import (
	"math"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
)

// Result is the outcome of Evaluate.
type Result struct {
	Loss     float64 // sample-weighted mean loss
	Accuracy float64
	// Predicted holds the arg-max class of every sample.
	Predicted []int32
	// Confidence holds the softmax probability of every sample's predicted
	// class (Evaluate only; validation does not compute it).
	Confidence []float32
}

// StepFunc observes an evaluation's progress: step of steps done, with the
// running metrics.
type StepFunc func(step, steps int, running Logs)

// Evaluate computes the loss and accuracy of m on x, y in batches of
// batchSize, as Keras's model.evaluate, and the predicted class of every
// sample. progress, if non-nil, is called after each batch.
func Evaluate(e *tensor.Engine, m *nn.Sequential, x Inputs, y []int32, batchSize int, progress StepFunc) Result {
	ev := evaluator{confidence: true}
	return ev.evaluate(e, m, x, y, batchSize, progress)
}

// evaluator keeps the scratch of repeated evaluations (validation).
type evaluator struct {
	pred []int32
	xb   []float32 // a batch gathered at a padded stride
	idx  []int
	// confidence asks for Result.Confidence.
	confidence bool
}

func (ev *evaluator) evaluate(e *tensor.Engine, m *nn.Sequential, x Inputs, y []int32, batchSize int, progress StepFunc) Result {
	features, classes := m.Inputs(), m.Outputs()
	n := len(y)
	if cap(ev.pred) < n {
		ev.pred = make([]int32, n)
	}
	pred := ev.pred[:n]
	var conf []float32
	if ev.confidence {
		conf = make([]float32, n)
	}
	batchSize = max(min(batchSize, n), 1) // the buffers are never larger than the data
	steps := (n + batchSize - 1) / batchSize
	ldx := tensor.PaddedStride(features)
	if cap(ev.xb) < batchSize*ldx {
		ev.xb = make([]float32, batchSize*ldx)
		ev.idx = make([]int, batchSize)
	}
	var lossSum float64
	var correct int
	for step := range steps {
		lo, hi := step*batchSize, min(n, (step+1)*batchSize)
		idx := ev.idx[:hi-lo]
		for i := range idx {
			idx[i] = lo + i
		}
		x.Gather(e, ev.xb, ldx, idx)
		logits := m.Forward(e, ev.xb, ldx, hi-lo, false)
		loss, ok := nn.SparseCategoricalCrossentropy(logits, y[lo:hi], classes, nil)
		loss += m.RegularizationLoss() // as Keras's test_step adds it
		lossSum += float64(loss) * float64(hi-lo)
		correct += ok
		for i := range hi - lo {
			pred[lo+i] = argmax(logits[i*classes : (i+1)*classes])
			if conf != nil {
				conf[lo+i] = maxSoftmax(logits[i*classes : (i+1)*classes])
			}
		}
		if progress != nil {
			progress(step+1, steps, Logs{Loss: lossSum / float64(hi), Accuracy: float64(correct) / float64(hi)})
		}
	}
	if n == 0 {
		return Result{}
	}
	return Result{Loss: lossSum / float64(n), Accuracy: float64(correct) / float64(n), Predicted: pred, Confidence: conf}
}

// maxSoftmax is the largest softmax probability of logits z:
// 1 / sum_j exp(z_j - max z), in float64.
func maxSoftmax(z []float32) float32 {
	best := z[argmax(z)]
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v - best))
	}
	return float32(1 / s)
}

// argmax returns the index of the largest value, the first on ties.
func argmax(z []float32) int32 {
	best, arg := z[0], 0
	for j, v := range z[1:] {
		if v > best {
			best, arg = v, j+1
		}
	}
	return int32(arg)
}
