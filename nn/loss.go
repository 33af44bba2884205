package nn

import "math"

// SparseCategoricalCrossentropy computes Keras's
// sparse_categorical_crossentropy of a softmax output from the logits
// (batch x classes, row-major) and integer labels: the batch mean of
// logsumexp(z) - z[y]. It writes dLoss/dlogits = (softmax(z) - onehot(y)) / batch
// into grad (when grad is non-nil) and returns the mean loss and the number
// of rows whose arg-max (first on ties, as numpy/Keras) equals the label.
func SparseCategoricalCrossentropy(logits []float32, labels []int32, classes int, grad []float32) (loss float32, correct int) {
	batch := len(labels)
	var sum float32
	inv := 1 / float32(batch)
	for i, y := range labels {
		z := logits[i*classes : (i+1)*classes]
		best, arg := z[0], 0
		for j, v := range z[1:] {
			if v > best {
				best, arg = v, j+1
			}
		}
		if arg == int(y) {
			correct++
		}
		var s float32
		for _, v := range z {
			s += float32(math.Exp(float64(v - best)))
		}
		lse := best + float32(math.Log(float64(s)))
		sum += lse - z[y]
		if grad != nil {
			g := grad[i*classes : (i+1)*classes]
			for j, v := range z {
				g[j] = float32(math.Exp(float64(v-lse))) * inv
			}
			g[y] -= inv
		}
	}
	return sum * inv, correct
}

// Softmax replaces each row of logits (rows x classes) with its softmax.
func Softmax(logits []float32, classes int) {
	for i := 0; i < len(logits); i += classes {
		z := logits[i : i+classes]
		best := z[0]
		for _, v := range z[1:] {
			best = max(best, v)
		}
		var s float32
		for j, v := range z {
			e := float32(math.Exp(float64(v - best)))
			z[j] = e
			s += e
		}
		for j := range z {
			z[j] /= s
		}
	}
}
