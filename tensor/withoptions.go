package tensor

// The rules' passes with the base options fused in: Nadam and Adam (AdamW
// is Adam with the weight decay) are the optimizers people run with
// clipnorm, weight decay and an average, and their passes are bound by the
// divider, so the options' loads, stores and arithmetic fit beside them in
// one trip through memory (optim's other rules run the options as
// separate passes over blocks).

// The clip modes of Options.Clip.
const (
	ClipNone  = iota
	ClipNorm  // g = (g C) / D: clipnorm, C / max(‖g‖, C) (ClipByNorm)
	ClipScale // g = g C: global_clipnorm's scale (Scale)
	ClipValue // g clipped to [C, D] (ClipByValue)
)

// Options are one step's base options for one parameter tensor, in Keras
// 3's order (BaseOptimizer.apply): the gradient clipped as Clip says, the
// weight decayed w = w - (w WD) LR when Decay, the rule's update, and,
// when EMA, the average a = M a + OM w.
type Options struct {
	Clip   int
	C, D   float32
	Decay  bool
	WD, LR float32
	EMA    bool
	M, OM  float32
}

// mode is the index of the options' pass: clip, decay and average as bits.
func (o *Options) mode() int {
	k := o.Clip << 2
	if o.Decay {
		k |= 2
	}
	if o.EMA {
		k |= 1
	}
	return k
}

// WithOptions are a rule's scalars and a parameter's Options in the form
// the fused passes take, set once per step so that a pass allocates
// nothing.
type WithOptions struct {
	o Options
	c [9]float32     // the rule's scalars (Adam's are the first four)
	t [16][8]float32 // c, then C, D, WD, LR, M, OM, eight copies each
}

// SetNadam sets s to Nadam's scalars n and the options o.
func (s *WithOptions) SetNadam(n *NadamScalars, o Options) { s.set(n.c[:], o) }

// SetAdam sets s to Adam's scalars a (alpha, 1-beta1, 1-beta2, epsilon)
// and the options o.
func (s *WithOptions) SetAdam(a *StepScalars, o Options) { s.set(a.c[:4], o) }

func (s *WithOptions) set(c []float32, o Options) {
	if o.Clip < ClipNone || o.Clip > ClipValue {
		panic("tensor: unknown clip mode")
	}
	s.o = o
	s.c = [9]float32{}
	copy(s.c[:], c)
	var rows [15]float32
	copy(rows[:], s.c[:])
	rows[9], rows[10], rows[11], rows[12], rows[13], rows[14] = o.C, o.D, o.WD, o.LR, o.M, o.OM
	for i, v := range rows {
		for j := range s.t[i] {
			s.t[i][j] = v
		}
	}
}

// NadamWithOptions applies to w (g, m, v and, with Options.EMA, a of its
// length) the options and Nadam as Nadam and the option passes (ClipByNorm,
// Scale, ClipByValue, DecayWeights, MovingAverage) would one after the
// other, bit for bit, on the calling goroutine; the clipped gradient is
// stored in g.
func (e *Engine) NadamWithOptions(w, g, m, v, a []float32, s *WithOptions) {
	n := len(w)
	if s.o.EMA {
		a = a[:n]
	}
	e.simd.nadamWithOptions(w, g[:n], m[:n], v[:n], a, s)
}

// AdamWithOptions is NadamWithOptions with Adam (amsgrad off) for the
// rule.
func (e *Engine) AdamWithOptions(w, g, m, v, a []float32, s *WithOptions) {
	n := len(w)
	if s.o.EMA {
		a = a[:n]
	}
	e.simd.adamWithOptions(w, g[:n], m[:n], v[:n], a, s)
}

// nadamWithOptionsGeneric is the Go twin: the option passes' and Nadam's
// twins, stage after stage.
func nadamWithOptionsGeneric(w, g, m, v, a []float32, s *WithOptions) {
	clipAndDecayGeneric(w, g, &s.o)
	nadamGeneric(w, g, m, v, &s.c)
	averageGeneric(a, w, &s.o)
}

// adamWithOptionsGeneric is the Go twin with Adam.
func adamWithOptionsGeneric(w, g, m, v, a []float32, s *WithOptions) {
	clipAndDecayGeneric(w, g, &s.o)
	adamGeneric(w, g, m, v, (*[4]float32)(s.c[:4]))
	averageGeneric(a, w, &s.o)
}

func clipAndDecayGeneric(w, g []float32, o *Options) {
	switch o.Clip {
	case ClipNorm:
		clipByNormGeneric(g, o.C, o.D)
	case ClipScale:
		scaleGeneric(g, o.C)
	case ClipValue:
		clipByValueGeneric(g, o.C, o.D)
	}
	if o.Decay {
		decayWeightsGeneric(w, o.WD, o.LR)
	}
}

func averageGeneric(a, w []float32, o *Options) {
	if o.EMA {
		movingAverageGeneric(a, w, o.M, o.OM)
	}
}
