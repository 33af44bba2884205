package tensor

// The rules' passes with the base options fused in, so that a step with
// options is one trip through memory: Nadam and Adam (AdamW is Adam with
// the weight decay) in a pass made for each combination of options
// (NadamWithOptions, AdamWithOptions), every other rule in one pass that
// tests the options' bits as it goes (RuleWithOptions).

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
	c [9]float32 // the rule's scalars (Adam's are the first four)
	// c, then C, D, WD, LR, M, OM, then RN(1/D) with ClipNorm and Nadam's
	// RN(1/(1-beta2^t)) (each 0 where out of range, see reciprocal), eight
	// copies each
	t [17][8]float32
}

// SetOptions sets s to the options o, for RuleWithOptions.
func (s *WithOptions) SetOptions(o Options) { s.set(nil, o) }

// SetNadam sets s to Nadam's scalars n and the options o.
func (s *WithOptions) SetNadam(n *NadamScalars, o Options) {
	s.set(n.c[:9], o)
	for j := range s.t[16] {
		s.t[16][j] = n.c[11] // RN(1/(1-beta2^t)), made with the scalars
	}
}

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
	var rows [17]float32
	copy(rows[:], s.c[:])
	rows[9], rows[10], rows[11], rows[12], rows[13], rows[14] = o.C, o.D, o.WD, o.LR, o.M, o.OM
	if o.Clip == ClipNorm {
		rows[15] = reciprocal(o.D)
	}
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

// Rule names an optimizer's pass for RuleWithOptions; its slots are those
// of the pass's Engine method, in order.
type Rule int

// The rules of RuleWithOptions.
const (
	RuleSGD                     Rule = iota // SGD without momentum: no slot
	RuleSGDMomentum                         // SGD with momentum: m
	RuleSGDNesterov                         // SGD with Nesterov momentum: m
	RuleRMSprop                             // RMSprop: v
	RuleRMSpropCentered                     // RMSpropFull, centered: v, a
	RuleRMSpropMomentum                     // RMSpropFull with momentum: v, b
	RuleRMSpropCenteredMomentum             // RMSpropFull, both: v, a, b
	RuleAdagrad                             // Adagrad: a
	RuleAdadelta                            // Adadelta: ga, da
	RuleLion                                // Lion: m
	RuleAdamax                              // Adamax: m, u
	RuleAdamAMSGrad                         // AdamAMSGrad: m, v, vh
)

// RuleWithOptions applies to w (g, the slots and, with Options.EMA, a of
// its length) s's options and rule r's pass with the scalars c as that
// pass's Engine method and the option passes would one after the other,
// bit for bit, on the calling goroutine; the clipped gradient is stored in
// g. Unused slots are nil.
func (e *Engine) RuleWithOptions(r Rule, w, g []float32, slots [3][]float32, a []float32, c *StepScalars, s *WithOptions) {
	n := len(w)
	for i := range slots {
		if slots[i] != nil {
			slots[i] = slots[i][:n]
		}
	}
	if s.o.EMA {
		a = a[:n]
	}
	e.simd.ruleWithOptions(r, w, g[:n], slots, a, c, s)
}

// ruleWithOptionsGeneric is the Go twin: the option passes' and the
// rule's twins, stage after stage.
func ruleWithOptionsGeneric(r Rule, w, g []float32, slots [3][]float32, a []float32, c *StepScalars, s *WithOptions) {
	clipAndDecayGeneric(w, g, &s.o)
	ruleGeneric(r, w, g, slots, c)
	averageGeneric(a, w, &s.o)
}

// ruleGeneric is rule r's Go twin.
func ruleGeneric(r Rule, w, g []float32, x [3][]float32, c *StepScalars) {
	switch r {
	case RuleSGD, RuleSGDMomentum, RuleSGDNesterov:
		sgdGeneric(w, g, x[0], r == RuleSGDNesterov, &c.c)
	case RuleRMSprop:
		rmspropGeneric(w, g, x[0], c.four())
	case RuleRMSpropCentered, RuleRMSpropCenteredMomentum:
		rmspropFullGeneric(w, g, x[0], x[1], x[2], &c.c)
	case RuleRMSpropMomentum:
		rmspropFullGeneric(w, g, x[0], nil, x[1], &c.c)
	case RuleAdagrad:
		adagradGeneric(w, g, x[0], c.four())
	case RuleAdadelta:
		adadeltaGeneric(w, g, x[0], x[1], c.four())
	case RuleLion:
		lionGeneric(w, g, x[0], &c.c)
	case RuleAdamax:
		adamaxGeneric(w, g, x[0], x[1], &c.c)
	case RuleAdamAMSGrad:
		adamAMSGradGeneric(w, g, x[0], x[1], x[2], c.four())
	default:
		panic("tensor: unknown rule")
	}
}

// cutSlots returns elements lo to hi-1 of each slot (nil staying nil).
func cutSlots(x [3][]float32, lo, hi int) [3][]float32 {
	for i := range x {
		if x[i] != nil {
			x[i] = x[i][lo:hi]
		}
	}
	return x
}
