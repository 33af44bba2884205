//go:build amd64 && !purego

package tensor

// The optimizers' AVX-512 passes (see rulePass and withOptions in
// _asm/gen.go): each runs over the first len(w) &^ 15 elements and leaves
// the rest to the AVX2 pass and its Go tail. Lane by lane they are the
// AVX2 passes' operations, but for the fused passes' divisions by the
// clip's norm and by Nadam's 1-beta2^t, made through their reciprocals
// (correctly rounded, as the divisions), so every split gives the same
// bits.

func adamAVX512Tail(w, g, m, v []float32, c *[4]float32) {
	n := len(w) &^ 15
	adamAVX512(w[:n], g[:n], m[:n], v[:n], c)
	adamAVX2Tail(w[n:], g[n:], m[n:], v[n:], c)
}

func adamAMSGradAVX512Tail(w, g, m, v, vh []float32, c *[4]float32) {
	n := len(w) &^ 15
	adamAMSGradAVX512(w[:n], g[:n], m[:n], v[:n], vh[:n], c)
	adamAMSGradAVX2Tail(w[n:], g[n:], m[n:], v[n:], vh[n:], c)
}

func sgdAVX512Tail(w, g, m []float32, nesterov bool, c *[8]float32) {
	n := len(w) &^ 15
	switch {
	case m == nil:
		sgdAVX512(w[:n], g[:n], c)
	case nesterov:
		sgdNesterovAVX512(w[:n], g[:n], m[:n], c)
		m = m[n:]
	default:
		sgdMomentumAVX512(w[:n], g[:n], m[:n], c)
		m = m[n:]
	}
	sgdAVX2Tail(w[n:], g[n:], m, nesterov, c)
}

func rmspropAVX512Tail(w, g, v []float32, c *[4]float32) {
	n := len(w) &^ 15
	rmspropAVX512(w[:n], g[:n], v[:n], c)
	rmspropAVX2Tail(w[n:], g[n:], v[n:], c)
}

func adagradAVX512Tail(w, g, a []float32, c *[4]float32) {
	n := len(w) &^ 15
	adagradAVX512(w[:n], g[:n], a[:n], c)
	adagradAVX2Tail(w[n:], g[n:], a[n:], c)
}

func adadeltaAVX512Tail(w, g, ga, da []float32, c *[4]float32) {
	n := len(w) &^ 15
	adadeltaAVX512(w[:n], g[:n], ga[:n], da[:n], c)
	adadeltaAVX2Tail(w[n:], g[n:], ga[n:], da[n:], c)
}

func lionAVX512Tail(w, g, m []float32, c *[8]float32) {
	n := len(w) &^ 15
	lionAVX512(w[:n], g[:n], m[:n], c)
	lionAVX2Tail(w[n:], g[n:], m[n:], c)
}

func adamaxAVX512Tail(w, g, m, u []float32, c *[8]float32) {
	n := len(w) &^ 15
	adamaxAVX512(w[:n], g[:n], m[:n], u[:n], c)
	adamaxAVX2Tail(w[n:], g[n:], m[n:], u[n:], c)
}

func rmspropFullAVX512Tail(w, g, v, a, b []float32, c *[8]float32) {
	n := len(w) &^ 15
	switch {
	case a != nil && b != nil:
		rmspropCenteredMomentumAVX512(w[:n], g[:n], v[:n], a[:n], b[:n], c)
		a, b = a[n:], b[n:]
	case a != nil:
		rmspropCenteredAVX512(w[:n], g[:n], v[:n], a[:n], c)
		a = a[n:]
	case b != nil:
		rmspropMomentumAVX512(w[:n], g[:n], v[:n], b[:n], c)
		b = b[n:]
	default:
		n = 0
	}
	rmspropFullAVX2Tail(w[n:], g[n:], v[n:], a, b, c)
}

// nadamWithAVX512, nadamUnitWithAVX512 and adamWithAVX512 are the fused
// passes by Options.mode, as nadamWithAVX2 and the others.
var nadamWithAVX512 = [16]func(w, g, m, v, a []float32, c *[17][8]float32){
	nil, nadamWithEMAAVX512, nadamWithDecayAVX512, nadamWithDecayEMAAVX512,
	nadamWithClipNormAVX512, nadamWithClipNormEMAAVX512, nadamWithClipNormDecayAVX512, nadamWithClipNormDecayEMAAVX512,
	nadamWithClipScaleAVX512, nadamWithClipScaleEMAAVX512, nadamWithClipScaleDecayAVX512, nadamWithClipScaleDecayEMAAVX512,
	nadamWithClipValueAVX512, nadamWithClipValueEMAAVX512, nadamWithClipValueDecayAVX512, nadamWithClipValueDecayEMAAVX512,
}

var nadamUnitWithAVX512 = [16]func(w, g, m, v, a []float32, c *[17][8]float32){
	nil, nadamUnitWithEMAAVX512, nadamUnitWithDecayAVX512, nadamUnitWithDecayEMAAVX512,
	nadamUnitWithClipNormAVX512, nadamUnitWithClipNormEMAAVX512, nadamUnitWithClipNormDecayAVX512, nadamUnitWithClipNormDecayEMAAVX512,
	nadamUnitWithClipScaleAVX512, nadamUnitWithClipScaleEMAAVX512, nadamUnitWithClipScaleDecayAVX512, nadamUnitWithClipScaleDecayEMAAVX512,
	nadamUnitWithClipValueAVX512, nadamUnitWithClipValueEMAAVX512, nadamUnitWithClipValueDecayAVX512, nadamUnitWithClipValueDecayEMAAVX512,
}

var adamWithAVX512 = [16]func(w, g, m, v, a []float32, c *[17][8]float32){
	nil, adamWithEMAAVX512, adamWithDecayAVX512, adamWithDecayEMAAVX512,
	adamWithClipNormAVX512, adamWithClipNormEMAAVX512, adamWithClipNormDecayAVX512, adamWithClipNormDecayEMAAVX512,
	adamWithClipScaleAVX512, adamWithClipScaleEMAAVX512, adamWithClipScaleDecayAVX512, adamWithClipScaleDecayEMAAVX512,
	adamWithClipValueAVX512, adamWithClipValueEMAAVX512, adamWithClipValueDecayAVX512, adamWithClipValueDecayEMAAVX512,
}

func nadamWithOptionsAVX512Tail(w, g, m, v, a []float32, s *WithOptions) {
	if s.t[16][0] == 0 { // 1-beta2^t out of the reciprocal's range
		nadamWithOptionsAVX2Tail(w, g, m, v, a, s)
		return
	}
	passes := &nadamWithAVX512
	if nadamDivisorsOne(&s.c) {
		passes = &nadamUnitWithAVX512
	}
	withOptionsAVX512Tail(passes, nadamWithOptionsAVX2Tail, w, g, m, v, a, s)
}

func adamWithOptionsAVX512Tail(w, g, m, v, a []float32, s *WithOptions) {
	withOptionsAVX512Tail(&adamWithAVX512, adamWithOptionsAVX2Tail, w, g, m, v, a, s)
}

// withOptionsAVX512Tail runs passes[mode] over the first len(w) &^ 15
// elements and rest over the others. rest does it all without options
// (mode 0: none applies to this call; the rule's own pass, as Nadam's
// needs reciprocals of 1-Πu that WithOptions lacks) and where the clip's
// norm has no reciprocal (see clipDivisible).
func withOptionsAVX512Tail(passes *[16]func(w, g, m, v, a []float32, c *[17][8]float32),
	rest func(w, g, m, v, a []float32, s *WithOptions), w, g, m, v, a []float32, s *WithOptions) {
	k := s.o.mode()
	if k == 0 || !s.clipDivisible() {
		rest(w, g, m, v, a, s)
		return
	}
	n := len(w) &^ 15
	var at []float32
	if a != nil {
		a, at = a[:n], a[n:]
	}
	passes[k](w[:n], g[:n], m[:n], v[:n], a, &s.t)
	rest(w[n:], g[n:], m[n:], v[n:], at, s)
}

// clipDivisible tells whether s clips by norm through RN(1/D), as the
// AVX-512 passes do, or does not clip by norm: D out of the reciprocal's
// range leaves the call to the AVX2 passes, which divide.
func (s *WithOptions) clipDivisible() bool { return s.o.Clip != ClipNorm || s.t[15][0] != 0 }

// ruleWithOptionsAVX512Tail is RuleWithOptions's pass in AVX-512, the rest
// through ruleWithOptionsAVX2Tail.
func ruleWithOptionsAVX512Tail(r Rule, w, g []float32, slots [3][]float32, a []float32, c *StepScalars, s *WithOptions) {
	if !s.clipDivisible() {
		ruleWithOptionsAVX2Tail(r, w, g, slots, a, c, s)
		return
	}
	n := len(w) &^ 15
	var at []float32
	if a != nil {
		a, at = a[:n], a[n:]
	}
	x, o, mode := cutSlots(slots, 0, n), (*[7][8]float32)(s.t[9:16]), s.o.mode()
	w0, g0 := w[:n], g[:n]
	switch r {
	case RuleSGD:
		sgdWithOptionsAVX512(w0, g0, a, &c.c, o, mode)
	case RuleSGDMomentum:
		sgdMomentumWithOptionsAVX512(w0, g0, x[0], a, &c.c, o, mode)
	case RuleSGDNesterov:
		sgdNesterovWithOptionsAVX512(w0, g0, x[0], a, &c.c, o, mode)
	case RuleRMSprop:
		rmspropWithOptionsAVX512(w0, g0, x[0], a, c.four(), o, mode)
	case RuleRMSpropCentered:
		rmspropCenteredWithOptionsAVX512(w0, g0, x[0], x[1], a, &c.c, o, mode)
	case RuleRMSpropMomentum:
		rmspropMomentumWithOptionsAVX512(w0, g0, x[0], x[1], a, &c.c, o, mode)
	case RuleRMSpropCenteredMomentum:
		rmspropCenteredMomentumWithOptionsAVX512(w0, g0, x[0], x[1], x[2], a, &c.c, o, mode)
	case RuleAdagrad:
		adagradWithOptionsAVX512(w0, g0, x[0], a, c.four(), o, mode)
	case RuleAdadelta:
		adadeltaWithOptionsAVX512(w0, g0, x[0], x[1], a, c.four(), o, mode)
	case RuleLion:
		lionWithOptionsAVX512(w0, g0, x[0], a, &c.c, o, mode)
	case RuleAdamax:
		adamaxWithOptionsAVX512(w0, g0, x[0], x[1], a, &c.c, o, mode)
	case RuleAdamAMSGrad:
		adamAMSGradWithOptionsAVX512(w0, g0, x[0], x[1], x[2], a, c.four(), o, mode)
	default:
		panic("tensor: unknown rule")
	}
	ruleWithOptionsAVX2Tail(r, w[n:], g[n:], cutSlots(slots, n, len(w)), at, c, s)
}
