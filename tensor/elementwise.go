package tensor

import (
	"fmt"
	"math"
)

// The elementwise passes of training. Each has a portable Go body and, on
// amd64 with AVX-512, an assembly twin (kernel_amd64.s; most also in AVX2):
// ELU backward, Nadam and the others use only correctly rounded operations
// in the same order, so both paths give the same bits (the optimizers' for
// the states training produces: where two different NaNs meet, from an
// accumulator made negative by hand, say, the result's NaN payload may
// differ between them, not its NaN-ness); so does the AVX2 ELU
// forward, whose expm1 gives math.Expm1's float32 rounding for every input
// (a fast polynomial where that rounding is certain, math.Expm1's float64
// arithmetic vectorized elsewhere); the AVX-512 ELU forward uses its own
// expm1 (a few ulp from math.Expm1).

// BiasELU sets each row of x (rows x len(bias)) to ELU(row + bias), alpha 1,
// rows spread over the engine's workers (each element is computed alone,
// so the split never changes a bit).
func (e *Engine) BiasELU(x, bias []float32, rows int) {
	cols := len(bias)
	if cols == 0 || rows <= 0 {
		return
	}
	_ = x[:rows*cols]
	per := max(1, eluChunk/cols)
	e.elu = eluCall{x: x, bias: bias, rows: rows, per: per}
	e.pool.For((rows+per-1)/per, e.eluTask)
	e.elu = eluCall{}
}

// BiasAdd adds bias to each row of x (rows x len(bias)).
func BiasAdd(x, bias []float32, rows int) {
	cols := len(bias)
	for i := range rows {
		row := x[i*cols : (i+1)*cols]
		for j, b := range bias {
			row[j] += b
		}
	}
}

// ELUBackward multiplies g by ELU'(z), given the activations a = ELU(z),
// in chunks spread over the engine's workers.
func (e *Engine) ELUBackward(g, a []float32) {
	a = a[:len(g)]
	e.elu = eluCall{g: g, a: a}
	e.pool.For((len(g)+eluChunk-1)/eluChunk, e.eluTask)
	e.elu = eluCall{}
}

// eluChunk is about the most elements of one task of the ELU passes: large
// enough that handing a task to a worker costs little beside it.
const eluChunk = 1 << 12

// eluCall is the ELU pass in flight: the forward's x, bias, rows and rows
// per task, or the backward's g and a.
type eluCall struct {
	x, bias   []float32
	rows, per int
	g, a      []float32
}

func (e *Engine) eluChunkTask(t int) {
	c := &e.elu
	if c.g != nil {
		lo, hi := t*eluChunk, min(len(c.g), (t+1)*eluChunk)
		e.simd.eluBackward(c.g[lo:hi], c.a[lo:hi])
		return
	}
	cols := len(c.bias)
	for i := t * c.per; i < min(c.rows, (t+1)*c.per); i++ {
		e.simd.biasELU(c.x[i*cols:(i+1)*cols], c.bias)
	}
}

// NadamStep holds the per-step scalars of one Keras 3 Nadam update.
type NadamStep struct {
	OneMinusBeta1, OneMinusBeta2 float32
	UNext, OneMinusUProdNext     float32 // u_{t+1} and 1 - Π u up to t+1
	OneMinusU, OneMinusUProd     float32 // 1 - u_t and 1 - Π u up to t
	OneMinusBeta2Pow             float32 // 1 - beta2^t
	LearningRate, Epsilon        float32
}

// nadamChunk is the unit of work of a parallel Nadam pass. Every element's
// update is independent, so the split never affects a result.
const nadamChunk = 1 << 14

// NadamScalars are a NadamStep's scalars in the order of the pass, then
// the reciprocals of its three divisors (see reciprocal), made once per
// step so that NadamPass allocates nothing.
type NadamScalars struct{ c [12]float32 }

// Scalars returns s in the form NadamPass takes.
func (s NadamStep) Scalars() NadamScalars {
	return nadamScalars([9]float32{s.OneMinusBeta1, s.OneMinusBeta2, s.UNext, s.OneMinusUProdNext, s.OneMinusU, s.OneMinusUProd, s.OneMinusBeta2Pow, s.LearningRate, s.Epsilon})
}

// nadamScalars returns the pass's nine scalars c with the reciprocals of
// its divisors 1-Πu_t+1, 1-Πu_t and 1-beta2^t.
func nadamScalars(c [9]float32) NadamScalars {
	var s NadamScalars
	copy(s.c[:], c[:])
	s.c[9], s.c[10], s.c[11] = reciprocal(c[3]), reciprocal(c[5]), reciprocal(c[6])
	return s
}

// reciprocal returns 1/d correctly rounded to float32 for d in [2^-30,
// 2^30], which the AVX-512 Nadam passes (and the fused passes' clip by
// norm) divide by through it, and 0 for any other d (the plain Nadam pass
// then divides; the fused passes leave the call to the AVX2 ones). Rounding the float64 quotient
// again gives the float32 one: 1/d is never within float64's rounding
// error of a float32 midpoint without being one, and it is never one.
func reciprocal(d float32) float32 {
	if !(d >= 0x1p-30 && d <= 0x1p30) {
		return 0
	}
	return float32(1 / float64(d))
}

// NadamPass applies one Nadam update to w (g, m and v of its length) on
// the calling goroutine: the per-element pass of Nadam, for a caller that
// splits the work itself (optim, through ForChunks).
func (e *Engine) NadamPass(w, g, m, v []float32, s *NadamScalars) {
	e.simd.nadam(w, g[:len(w)], m[:len(w)], v[:len(w)], &s.c)
}

// NadamSlots is one parameter tensor with its gradient and Nadam moments,
// all of the same length.
type NadamSlots struct{ W, G, M, V []float32 }

// Nadam applies one Nadam update to every tensor in one parallel pass (one
// barrier per training step, whatever the number of tensors).
func (e *Engine) Nadam(ts []NadamSlots, s NadamStep) {
	e.nadam = nadamCall{ts: ts, c: s.Scalars().c}
	tasks := 0
	for _, t := range ts {
		tasks += (len(t.W) + nadamChunk - 1) / nadamChunk
	}
	e.pool.For(tasks, e.nadamTask)
	e.nadam.ts = nil
}

type nadamCall struct {
	ts []NadamSlots
	c  [12]float32
}

func (e *Engine) nadamChunkTask(task int) {
	for _, t := range e.nadam.ts {
		chunks := (len(t.W) + nadamChunk - 1) / nadamChunk
		if task >= chunks {
			task -= chunks
			continue
		}
		lo, hi := task*nadamChunk, min(len(t.W), (task+1)*nadamChunk)
		e.simd.nadam(t.W[lo:hi], t.G[lo:hi], t.M[lo:hi], t.V[lo:hi], &e.nadam.c)
		return
	}
}

// ForChunks calls fn(k, lo, hi) for every chunk [lo, hi) of at most
// ChunkSize elements of every tensor k, where lens[k] is tensor k's length,
// spread over the engine's workers: one parallel pass over all the tensors
// with one barrier. fn must touch only elements lo to hi-1 of tensor k, so
// that no result depends on the number of threads. Neither the call nor
// the pass allocates when fn is a function value made once.
func (e *Engine) ForChunks(lens []int, fn func(k, lo, hi int)) {
	tasks := 0
	for _, n := range lens {
		tasks += (n + ChunkSize - 1) / ChunkSize
	}
	e.chunks = chunksCall{lens: lens, fn: fn}
	e.pool.For(tasks, e.chunksTask)
	e.chunks = chunksCall{}
}

// ChunkSize is the most elements of one task of ForChunks (and of the
// Nadam pass).
const ChunkSize = nadamChunk

type chunksCall struct {
	lens []int
	fn   func(k, lo, hi int)
}

func (e *Engine) chunkTask(task int) {
	for k, n := range e.chunks.lens {
		chunks := (n + ChunkSize - 1) / ChunkSize
		if task >= chunks {
			task -= chunks
			continue
		}
		e.chunks.fn(k, task*ChunkSize, min(n, (task+1)*ChunkSize))
		return
	}
}

// Gather copies the rows idx of x (rows of width features, contiguous) into
// dst, rows ldx apart, on the engine's workers: the batch of a training step.
func (e *Engine) Gather(dst []float32, ldx int, x []float32, features int, idx []int) {
	e.gather.dst, e.gather.ldx, e.gather.x, e.gather.bytes, e.gather.features, e.gather.idx = dst, ldx, x, nil, features, idx
	e.pool.For((len(idx)+gatherRows-1)/gatherRows, e.gatherTask)
	e.gather.dst, e.gather.x, e.gather.idx = nil, nil, nil
}

// GatherBytes is Gather from uint8 rows, each value converted as
// float32(v) / div: by vector division or a reciprocal's product corrected
// by its remainder where there is a vector kernel, else through a table of
// the 256 quotients (the same bits, without a division per value).
func (e *Engine) GatherBytes(dst []float32, ldx int, x []uint8, features int, idx []int, div float32) {
	if e.gather.scale.div != div || !e.gather.scale.set {
		e.gather.scale.setDivisor(div, e.simd.bytesToFloatRecip)
	}
	e.gather.dst, e.gather.ldx, e.gather.x, e.gather.bytes, e.gather.features, e.gather.idx = dst, ldx, nil, x, features, idx
	e.pool.For((len(idx)+gatherRows-1)/gatherRows, e.gatherTask)
	e.gather.dst, e.gather.bytes, e.gather.idx = nil, nil, nil
}

const gatherRows = 16

type gatherCall struct {
	dst      []float32
	ldx      int
	x        []float32
	bytes    []uint8
	features int
	idx      []int
	scale    byteScale
}

// byteScale is the conversion float32(v) / div of a byte v, in the forms
// the kernels take.
type byteScale struct {
	div float32
	set bool
	// c is div and 1/div rounded, for a kernel that multiplies by the
	// reciprocal and corrects the product by its remainder (x - q div,
	// exact in a fused multiply-add): the quotient's bits for nearly
	// every x and div, so such a kernel is used only where recip is set.
	c [2]float32
	// recip: the engine's reciprocal kernel (simd.bytesToFloatRecip) gave
	// the table's bits for all 256 values (checked when div was set);
	// false where the engine has none.
	recip bool
	table [256]float32
}

// everyByte holds the 256 byte values in order.
var everyByte = func() (b [256]uint8) {
	for v := range b {
		b[v] = uint8(v)
	}
	return b
}()

// setDivisor sets s for div: the table of the 256 quotients, then recip
// if recipKernel (nil: none) gives every one of them bit for bit.
func (s *byteScale) setDivisor(div float32, recipKernel func(dst []float32, src []uint8, c *[2]float32)) {
	for v := range s.table {
		s.table[v] = float32(v) / div
	}
	s.div, s.set, s.c, s.recip = div, true, [2]float32{div, 1 / div}, false
	if recipKernel == nil {
		return
	}
	var got [256]float32
	recipKernel(got[:], everyByte[:], &s.c)
	s.recip = true
	for v, q := range got {
		if math.Float32bits(q) != math.Float32bits(s.table[v]) {
			s.recip = false
			break
		}
	}
}

func (e *Engine) gatherRows(t int) {
	g := &e.gather
	for i := t * gatherRows; i < min(len(g.idx), (t+1)*gatherRows); i++ {
		s := g.idx[i]
		d := g.dst[i*g.ldx : i*g.ldx+g.features]
		if g.bytes == nil {
			copy(d, g.x[s*g.features:(s+1)*g.features])
			continue
		}
		e.simd.bytesToFloat(d[:g.features], g.bytes[s*g.features:(s+1)*g.features], &g.scale)
	}
}

// simd is the set of elementwise kernels an engine uses.
type simd struct {
	biasELU     func(x, bias []float32)
	eluBackward func(g, a []float32)
	nadam       func(w, g, m, v []float32, c *[12]float32) // NadamScalars' c
	// The optimizers' passes (Engine.Adam, RMSprop, RMSpropFull, Adagrad, Adadelta, Lion, Adamax
	// document c).
	adam func(w, g, m, v []float32, c *[4]float32)
	// adamAMSGrad: Adam with v̂ = max(v̂, v).
	adamAMSGrad func(w, g, m, v, vh []float32, c *[4]float32)
	// sgd: m nil without momentum.
	sgd      func(w, g, m []float32, nesterov bool, c *[8]float32)
	rmsprop  func(w, g, v []float32, c *[4]float32)
	adagrad  func(w, g, a []float32, c *[4]float32)
	adadelta func(w, g, ga, da []float32, c *[4]float32)
	lion     func(w, g, m []float32, c *[8]float32)
	adamax   func(w, g, m, u []float32, c *[8]float32)
	// rmspropFull: a (centered) or b (momentum) may be nil.
	rmspropFull func(w, g, v, a, b []float32, c *[8]float32)
	// bytesToFloat sets dst[i] = float32(src[i]) / s.div (s.table holds
	// the 256 quotients).
	bytesToFloat func(dst []float32, src []uint8, s *byteScale)
	// bytesToFloatRecip, where a set has one (nil elsewhere), converts
	// len(src) (a multiple of 16) values by the reciprocal c[1]'s product
	// corrected by its remainder; bytesToFloat uses it where s.recip says
	// it gives the quotients' bits.
	bytesToFloatRecip func(dst []float32, src []uint8, c *[2]float32)
	// colSums sets dst[j] to the sum of g[i*ldg+j] over i < rows, added
	// in order of i from zero.
	colSums func(dst, g []float32, ldg, rows int)
	// The base options' passes (Engine.SumSquares, Scale, ClipByNorm,
	// ClipByValue, DecayWeights, MovingAverage document them).
	sumSquares    func(x []float32) float64
	scale         func(x []float32, s float32)
	clipByNorm    func(x []float32, c, d float32)
	clipByValue   func(x []float32, lo, hi float32)
	decayWeights  func(w []float32, wd, lr float32)
	movingAverage func(a, w []float32, m, om float32)
	// The rules with the options fused in (Engine.NadamWithOptions,
	// AdamWithOptions); a is nil without the average.
	nadamWithOptions, adamWithOptions func(w, g, m, v, a []float32, s *WithOptions)
	ruleWithOptions                   func(r Rule, w, g []float32, slots [3][]float32, a []float32, c *StepScalars, s *WithOptions)
}

var genericSIMD = simd{biasELUGeneric, eluBackwardGeneric, func(w, g, m, v []float32, c *[12]float32) { nadamGeneric(w, g, m, v, (*[9]float32)(c[:9])) }, adamGeneric, adamAMSGradGeneric, sgdGeneric, rmspropGeneric, adagradGeneric, adadeltaGeneric, lionGeneric, adamaxGeneric, rmspropFullGeneric, bytesToFloatGeneric, nil, colSumsGeneric,
	sumSquaresGeneric, scaleGeneric, clipByNormGeneric, clipByValueGeneric, decayWeightsGeneric, movingAverageGeneric,
	nadamWithOptionsGeneric, adamWithOptionsGeneric, ruleWithOptionsGeneric}

func colSumsGeneric(dst, g []float32, ldg, rows int) {
	clear(dst)
	for i := range rows {
		for j, v := range g[i*ldg : i*ldg+len(dst)] {
			dst[j] += v
		}
	}
}

// ColumnSums sets dst[j] to the sum of column j of g, a rows x len(dst)
// matrix, rows added in order (the bias gradient of a batch).
func (e *Engine) ColumnSums(dst, g []float32, rows int) {
	if len(g) < rows*len(dst) {
		panic(fmt.Sprintf("tensor: ColumnSums: %d rows of %d need %d elements; the slice has %d", rows, len(dst), rows*len(dst), len(g)))
	}
	e.simd.colSums(dst, g, len(dst), rows)
}

func bytesToFloatGeneric(dst []float32, src []uint8, s *byteScale) {
	dst = dst[:len(src)]
	for j, v := range src {
		dst[j] = s.table[v]
	}
}

func biasELUGeneric(x, bias []float32) {
	x = x[:len(bias)]
	for i, b := range bias {
		z := x[i] + b
		if z <= 0 {
			z = float32(math.Expm1(float64(z)))
		}
		x[i] = z
	}
}

func eluBackwardGeneric(g, a []float32) {
	a = a[:len(g)]
	for i, v := range a {
		if v <= 0 {
			g[i] *= v + 1
		}
	}
}

// nadamGeneric is Keras 3's update_step in Keras's order of float32
// operations; the explicit conversions forbid fused multiply-adds, so every
// build gives the same bits as the assembly.
func nadamGeneric(w, g, m, v []float32, c *[9]float32) {
	b1c, b2c, uT1, d1, omUT, d2, vScale, lr, eps := c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i := range w {
		gi := g[i]
		mi := m[i] + float32((gi-m[i])*b1c)
		vi := v[i] + float32((float32(gi*gi)-v[i])*b2c)
		m[i], v[i] = mi, vi
		mHat := float32(float32(uT1*mi)/d1) + float32(float32(omUT*gi)/d2)
		w[i] -= float32(mHat*lr) / (float32(math.Sqrt(float64(vi/vScale))) + eps)
	}
}

// StepScalars are the per-step scalars of one optimizer pass (optim's
// rules compute them; each pass below says which, in order).
type StepScalars struct{ c [8]float32 }

// NewStepScalars returns up to eight scalars of a pass.
func NewStepScalars(c ...float32) StepScalars {
	var s StepScalars
	copy(s.c[:], c)
	return s
}

// The optimizers' passes: each updates its slices (all of w's length) on
// the calling goroutine (optim splits the work over the engine), in Keras's
// order of float32 operations, and every kernel gives the bits of its Go
// twin. s is a pointer so that the call allocates nothing.

// Adam is one Keras 3 Adam step (amsgrad off); s = alpha, 1-beta1,
// 1-beta2, epsilon:
//
//	m += (g - m)(1 - beta1);  v += (g² - v)(1 - beta2);  w -= m alpha / (sqrt(v) + epsilon)
func (e *Engine) Adam(w, g, m, v []float32, s *StepScalars) {
	e.simd.adam(w, g[:len(w)], m[:len(w)], v[:len(w)], s.four())
}

// AdamAMSGrad is one Keras 3 Adam step with amsgrad; s = alpha, 1-beta1,
// 1-beta2, epsilon:
//
//	m += (g - m)(1 - beta1);  v += (g² - v)(1 - beta2);  v̂ = max(v̂, v);  w -= m alpha / (sqrt(v̂) + epsilon)
func (e *Engine) AdamAMSGrad(w, g, m, v, vh []float32, s *StepScalars) {
	e.simd.adamAMSGrad(w, g[:len(w)], m[:len(w)], v[:len(w)], vh[:len(w)], s.four())
}

// SGD is one Keras 3 SGD step; s = lr, momentum; m (the velocity) is nil
// without momentum:
//
//	w -= g lr                                   (no momentum)
//	m = m momentum - g lr;  w += m              (momentum)
//	m = m momentum - g lr;  w += m momentum - g lr   (nesterov)
func (e *Engine) SGD(w, g, m []float32, nesterov bool, s *StepScalars) {
	if m != nil {
		m = m[:len(w)]
	}
	e.simd.sgd(w, g[:len(w)], m, nesterov, &s.c)
}

// RMSprop is one Keras 3 RMSprop step, not centered, without momentum;
// s = rho, 1-rho, lr, epsilon:
//
//	v = rho v + (1 - rho) g²;  w -= lr g / sqrt(v + epsilon)
func (e *Engine) RMSprop(w, g, v []float32, s *StepScalars) {
	e.simd.rmsprop(w, g[:len(w)], v[:len(w)], s.four())
}

// Adagrad is one Keras 3 Adagrad step; s = lr, epsilon:
//
//	a += g²;  w -= lr g / sqrt(a + epsilon)
func (e *Engine) Adagrad(w, g, a []float32, s *StepScalars) {
	e.simd.adagrad(w, g[:len(w)], a[:len(w)], s.four())
}

// Adadelta is one Keras 3 Adadelta step; s = rho, 1-rho, lr, epsilon:
//
//	G = rho G + (1 - rho) g²;  q = sqrt(D + epsilon) g / sqrt(G + epsilon)
//	D = rho D + (1 - rho) q²;  w -= lr q          (Keras's delta is -q)
//
// with q taken as sqrt((D + epsilon) / (G + epsilon)) g: one division and
// one square root an element, where Keras's order has two roots, and within
// 2.5 units of float32's roundoff of the exact value, where Keras's order is
// within 4 (bounds; see adadeltaQuotient).
func (e *Engine) Adadelta(w, g, ga, da []float32, s *StepScalars) {
	e.simd.adadelta(w, g[:len(w)], ga[:len(w)], da[:len(w)], s.four())
}

// four is the first four scalars, for the passes that take four.
func (s *StepScalars) four() *[4]float32 { return (*[4]float32)(s.c[:4]) }

// Lion is one Keras 3 Lion step; s = lr, beta1, 1-beta1, beta2, 1-beta2:
//
//	c = beta1 m + (1 - beta1) g;  w -= lr sign(c);  m = beta2 m + (1 - beta2) g
//
// (a NaN c makes w NaN, as Keras's sign does).
func (e *Engine) Lion(w, g, m []float32, s *StepScalars) {
	e.simd.lion(w, g[:len(w)], m[:len(w)], &s.c)
}

// Adamax is one Keras 3 Adamax step; s = lr, 1-beta1, beta2,
// 1-beta1^t, epsilon:
//
//	m += (g - m)(1 - beta1);  u = max(beta2 u, |g|);  w -= lr m / ((1 - beta1^t)(u + epsilon))
func (e *Engine) Adamax(w, g, m, u []float32, s *StepScalars) {
	e.simd.adamax(w, g[:len(w)], m[:len(w)], u[:len(w)], &s.c)
}

// RMSpropFull is one Keras 3 RMSprop step, centered (a is the average
// gradient) or with momentum (b), or both; a or b is nil when not used;
// s = rho, 1-rho, lr, epsilon, momentum:
//
//	v = rho v + (1 - rho) g²;  d = v + epsilon
//	centered: a = rho a + (1 - rho) g;  d = (v - a²) + epsilon
//	inc = lr g / sqrt(d);  momentum: b = momentum b + inc, w -= b;  else w -= inc
func (e *Engine) RMSpropFull(w, g, v, a, b []float32, s *StepScalars) {
	if a != nil {
		a = a[:len(w)]
	}
	if b != nil {
		b = b[:len(w)]
	}
	e.simd.rmspropFull(w, g[:len(w)], v[:len(w)], a, b, &s.c)
}

func adamGeneric(w, g, m, v []float32, c *[4]float32) {
	alpha, c1, c2, eps := c[0], c[1], c[2], c[3]
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i := range w {
		gi := g[i]
		m[i] += float32((gi - m[i]) * c1)
		vi := v[i] + float32((float32(gi*gi)-v[i])*c2)
		v[i] = vi
		w[i] -= float32(m[i]*alpha) / (float32(math.Sqrt(float64(vi))) + eps)
	}
}

func adamAMSGradGeneric(w, g, m, v, vh []float32, c *[4]float32) {
	alpha, c1, c2, eps := c[0], c[1], c[2], c[3]
	g, m, v, vh = g[:len(w)], m[:len(w)], v[:len(w)], vh[:len(w)]
	for i := range w {
		gi := g[i]
		m[i] += float32((gi - m[i]) * c1)
		vi := v[i] + float32((float32(gi*gi)-v[i])*c2)
		v[i] = vi
		vi = max(vh[i], vi)
		vh[i] = vi
		w[i] -= float32(m[i]*alpha) / (float32(math.Sqrt(float64(vi))) + eps)
	}
}

func sgdGeneric(w, g, m []float32, nesterov bool, c *[8]float32) {
	lr, mom := c[0], c[1]
	g = g[:len(w)]
	if m == nil {
		for i := range w {
			w[i] -= float32(g[i] * lr)
		}
		return
	}
	m = m[:len(w)]
	for i := range w {
		mi := float32(m[i]*mom) - float32(g[i]*lr)
		m[i] = mi
		if nesterov {
			w[i] += float32(mi*mom) - float32(g[i]*lr)
		} else {
			w[i] += mi
		}
	}
}

func rmspropGeneric(w, g, v []float32, c *[4]float32) {
	rho, omr, lr, eps := c[0], c[1], c[2], c[3]
	g, v = g[:len(w)], v[:len(w)]
	for i := range w {
		gi := g[i]
		vi := float32(rho*v[i]) + float32(omr*float32(gi*gi))
		v[i] = vi
		w[i] -= float32(lr*gi) / float32(math.Sqrt(float64(vi+eps)))
	}
}

func adagradGeneric(w, g, a []float32, c *[4]float32) {
	lr, eps := c[0], c[1]
	g, a = g[:len(w)], a[:len(w)]
	for i := range w {
		gi := g[i]
		ai := a[i] + float32(gi*gi)
		a[i] = ai
		w[i] -= float32(lr*gi) / float32(math.Sqrt(float64(ai+eps)))
	}
}

func adadeltaGeneric(w, g, ga, da []float32, c *[4]float32) {
	rho, omr, lr, eps := c[0], c[1], c[2], c[3]
	g, ga, da = g[:len(w)], ga[:len(w)], da[:len(w)]
	for i := range w {
		gi := g[i]
		gs := float32(rho*ga[i]) + float32(omr*float32(gi*gi))
		ga[i] = gs
		q := adadeltaQuotient(da[i]+eps, gs+eps, gi)
		da[i] = float32(rho*da[i]) + float32(omr*float32(q*q))
		w[i] -= float32(lr * q)
	}
}

// adadeltaQuotient is Adadelta's sqrt(a) g / sqrt(b) (a = D + epsilon,
// b = G + epsilon) as sqrt(a/b) g: three roundings, the division's halved
// by the root, so within 2.5 units of roundoff (2^-24, relative) of the
// exact value wherever the result is a normal float, where Keras's order
// (two roots, a product, a division) is within 4 (a bound: element by
// element either may be the nearer). Where a/b is not a positive normal
// float (it overflowed or underflowed, a or b is zero, infinite or NaN, or
// one of them is negative) it is Keras's order, so that a quotient too
// large for a float32 does not make a finite step infinite, nor a
// subnormal one an inexact step. (With a and b both negative, which
// accumulators and an epsilon that are not negative never give, it is
// sqrt(a/b) g where Keras's order gives NaN.)
func adadeltaQuotient(a, b, g float32) float32 {
	if r := a / b; r >= 0x1p-126 && r <= math.MaxFloat32 {
		return float32(math.Sqrt(float64(r))) * g
	}
	return float32(float32(math.Sqrt(float64(a)))*g) / float32(math.Sqrt(float64(b)))
}

func lionGeneric(w, g, m []float32, c *[8]float32) {
	lr, b1, c1, b2, c2 := c[0], c[1], c[2], c[3], c[4]
	g, m = g[:len(w)], m[:len(w)]
	for i := range w {
		gi := g[i]
		d := float32(m[i]*b1) + float32(gi*c1)
		switch {
		case d > 0:
			w[i] -= lr
		case d < 0:
			w[i] += lr
		case d != d: // NaN: sign is NaN
			w[i] = d
		}
		m[i] = float32(m[i]*b2) + float32(gi*c2)
	}
}

func adamaxGeneric(w, g, m, u []float32, c *[8]float32) {
	lr, c1, b2, corr, eps := c[0], c[1], c[2], c[3], c[4]
	g, m, u = g[:len(w)], m[:len(w)], u[:len(w)]
	for i := range w {
		gi := g[i]
		m[i] += float32((gi - m[i]) * c1)
		a := gi
		if a < 0 {
			a = -a
		}
		ui := max(float32(b2*u[i]), a)
		u[i] = ui
		w[i] -= float32(lr*m[i]) / float32(corr*(ui+eps))
	}
}

func rmspropFullGeneric(w, g, v, a, b []float32, c *[8]float32) {
	rho, omr, lr, eps, mom := c[0], c[1], c[2], c[3], c[4]
	g, v = g[:len(w)], v[:len(w)]
	for i := range w {
		gi := g[i]
		vi := float32(rho*v[i]) + float32(omr*float32(gi*gi))
		v[i] = vi
		d := vi + eps
		if a != nil {
			ai := float32(rho*a[i]) + float32(omr*gi)
			a[i] = ai
			d = float32(vi-float32(ai*ai)) + eps
		}
		inc := float32(lr*gi) / float32(math.Sqrt(float64(d)))
		if b != nil {
			bi := float32(mom*b[i]) + inc
			b[i] = bi
			w[i] -= bi
		} else {
			w[i] -= inc
		}
	}
}

// The passes of the options every Keras optimizer takes (Keras 3's
// BaseOptimizer, keras/src/optimizers/base_optimizer.py: _clip_gradients,
// _apply_weight_decay, _update_model_variables_moving_average), on the
// calling goroutine, each kernel giving its Go twin's bits. Where two NaN
// operands meet (a NaN weight and a NaN average), which NaN's payload
// survives is the hardware's choice, as in Go's own arithmetic.

// SumSquares returns the sum of float64(x[i])² in a fixed order (16
// lanes, then the last len(x) mod 16 in order; see sumSquaresGeneric): the
// same bits on every machine and in every kernel; any NaN gives NaN.
func (e *Engine) SumSquares(x []float32) float64 { return e.simd.sumSquares(x) }

// Scale sets x[i] = x[i] * s (global_clipnorm's scale).
func (e *Engine) Scale(x []float32, s float32) { e.simd.scale(x, s) }

// ClipByNorm sets x[i] = (x[i] * c) / d (clipnorm's c / max(‖x‖, c)).
func (e *Engine) ClipByNorm(x []float32, c, d float32) { e.simd.clipByNorm(x, c, d) }

// ClipByValue sets x[i] to hi where it is above hi and to lo where it is
// below lo (clipvalue); a NaN stays NaN and -0 stays -0.
func (e *Engine) ClipByValue(x []float32, lo, hi float32) { e.simd.clipByValue(x, lo, hi) }

// DecayWeights sets w[i] = w[i] - (w[i] * wd) * lr (decoupled weight
// decay).
func (e *Engine) DecayWeights(w []float32, wd, lr float32) { e.simd.decayWeights(w, wd, lr) }

// MovingAverage sets a[i] = m * a[i] + om * w[i] (use_ema's average, om =
// 1 - m).
func (e *Engine) MovingAverage(a, w []float32, m, om float32) {
	e.simd.movingAverage(a, w[:len(a)], m, om)
}

// sumSquaresGeneric adds float64(x)² (exact) in four accumulators of four
// lanes over blocks of 16, element 16i + 4j + l into lane l of
// accumulator j; combines them as (a0 + a1) + (a2 + a3), then the lanes
// as (l0 + l2) + (l1 + l3); and adds the rest in order (sumSquaresTail),
// the order of the AVX2 kernel.
func sumSquaresGeneric(x []float32) float64 {
	var a [4][4]float64
	n := len(x) &^ 15
	for i := 0; i < n; i += 16 {
		for j := range a {
			for l := range a[j] {
				v := float64(x[i+4*j+l])
				a[j][l] += v * v
			}
		}
	}
	var t [4]float64
	for l := range t {
		t[l] = (a[0][l] + a[1][l]) + (a[2][l] + a[3][l])
	}
	return sumSquaresTail((t[0]+t[2])+(t[1]+t[3]), x[n:])
}

// sumSquaresTail adds the squares of x to s in order; a NaN sum becomes
// math.NaN(), so that no NaN payload depends on the order of additions.
func sumSquaresTail(s float64, x []float32) float64 {
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	if s != s {
		return math.NaN()
	}
	return s
}

func scaleGeneric(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

func clipByNormGeneric(x []float32, c, d float32) {
	for i := range x {
		x[i] = float32(x[i]*c) / d
	}
}

func clipByValueGeneric(x []float32, lo, hi float32) {
	for i, v := range x {
		if v > hi {
			x[i] = hi
		} else if v < lo {
			x[i] = lo
		}
	}
}

func decayWeightsGeneric(w []float32, wd, lr float32) {
	for i, v := range w {
		w[i] = v - float32(float32(v*wd)*lr)
	}
}

func movingAverageGeneric(a, w []float32, m, om float32) {
	w = w[:len(a)]
	for i := range a {
		a[i] = float32(m*a[i]) + float32(om*w[i])
	}
}
