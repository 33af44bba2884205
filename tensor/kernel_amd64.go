//go:build amd64 && !purego

package tensor

import "golang.org/x/sys/cpu"

//go:generate sh -c "cd _asm && go run . -pkg tensor -out ../kernel_amd64.s -stubs ../kernel_stubs_amd64.go"

var (
	avx512Kernel = kernel{name: "avx512", mr: 12, nr: 32, kmajor: kernelKMajorAVX512, rows: kernelRowsAVX512,
		kmajorEdge: []kernelFunc{kernelKMajor1AVX512, kernelKMajor2AVX512, kernelKMajor3AVX512, kernelKMajor4AVX512,
			kernelKMajor5AVX512, kernelKMajor6AVX512, kernelKMajor7AVX512, kernelKMajor8AVX512, kernelKMajor9AVX512,
			kernelKMajor10AVX512, kernelKMajor11AVX512},
		rowsEdge: []kernelFunc{kernelRows1AVX512, kernelRows2AVX512, kernelRows3AVX512, kernelRows4AVX512,
			kernelRows5AVX512, kernelRows6AVX512, kernelRows7AVX512, kernelRows8AVX512, kernelRows9AVX512,
			kernelRows10AVX512, kernelRows11AVX512},
		narrow: &kernel{name: "avx512-narrow", mr: 12, nr: 16, kmajor: kernelKMajorNarrowAVX512, rows: kernelRowsNarrowAVX512,
			kmajorMasked: kernelKMajorMaskedAVX512, rowsMasked: kernelRowsMaskedAVX512,
			rowsMaskedEdge: []maskedFunc{kernelRowsMasked1AVX512, kernelRowsMasked2AVX512, kernelRowsMasked3AVX512,
				kernelRowsMasked4AVX512, kernelRowsMasked5AVX512, kernelRowsMasked6AVX512, kernelRowsMasked7AVX512,
				kernelRowsMasked8AVX512, kernelRowsMasked9AVX512, kernelRowsMasked10AVX512, kernelRowsMasked11AVX512},
			transpose16: transposeAVX512, copyPanel: copyPanelAVX512},
		cols: kernelColsAVX512, colsStore: kernelColsStoreAVX512,
		transpose16: transposeAVX512, copyPanel: copyPanelAVX512}
	avx2Kernel = kernel{name: "avx2", mr: 6, nr: 16, kmajor: kernelKMajorAVX2, rows: kernelRowsAVX2,
		kmajorPanels: kernelKMajorPanelsAVX2, rowsPanels: kernelRowsPanelsAVX2,
		kmajorEdge:   []kernelFunc{kernelKMajor1AVX2, kernelKMajor2AVX2, kernelKMajor3AVX2, kernelKMajor4AVX2, kernelKMajor5AVX2},
		rowsEdge:     []kernelFunc{kernelRows1AVX2, kernelRows2AVX2, kernelRows3AVX2, kernelRows4AVX2, kernelRows5AVX2},
		kmajorMasked: kernelKMajorMaskedAVX2, rowsMasked: kernelRowsMaskedAVX2,
		kmajorMaskedEdge: []maskedFunc{kernelKMajorMasked1AVX2, kernelKMajorMasked2AVX2, kernelKMajorMasked3AVX2,
			kernelKMajorMasked4AVX2, kernelKMajorMasked5AVX2},
		rowsMaskedEdge: []maskedFunc{kernelRowsMasked1AVX2, kernelRowsMasked2AVX2, kernelRowsMasked3AVX2,
			kernelRowsMasked4AVX2, kernelRowsMasked5AVX2},
		maskedMin: 9, maskedEdgeTiles: true,
		packBRows: 96, kOuter: 1024, kOuterPanels: 8, kOuterRows: 128,
		narrow: &kernel{name: "avx2-narrow", mr: 6, nr: 8, kmajor: kernelKMajorNarrowAVX2, rows: kernelRowsNarrowAVX2,
			kmajorMasked: kernelKMajorNarrowMaskedAVX2, rowsMasked: kernelRowsNarrowMaskedAVX2,
			kmajorMaskedEdge: []maskedFunc{kernelKMajorNarrowMasked1AVX2, kernelKMajorNarrowMasked2AVX2, kernelKMajorNarrowMasked3AVX2,
				kernelKMajorNarrowMasked4AVX2, kernelKMajorNarrowMasked5AVX2},
			rowsMaskedEdge: []maskedFunc{kernelRowsNarrowMasked1AVX2, kernelRowsNarrowMasked2AVX2, kernelRowsNarrowMasked3AVX2,
				kernelRowsNarrowMasked4AVX2, kernelRowsNarrowMasked5AVX2},
			maskedEdgeTiles: true},
		transpose16: transpose16AVX2, copyPanel: copyPanelAVX2, packPanelsT: packPanels6AVX2,
		transposeRows: transpose6AVX2}
	hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ
)

// transpose16AVX2 is the AVX2 kernel's transpose16: two 8-row
// transposes, the last k mod 8 columns in Go.
func transpose16AVX2(dst []float32, ldd int, src []float32, lds int, k int) {
	k8 := k &^ 7
	if k8 > 0 {
		transposeAVX2(dst, ldd, src, lds, k8)
		transposeAVX2(dst[8:], ldd, src[8*lds:], lds, k8)
	}
	for p := k8; p < k; p++ {
		d := dst[p*ldd : p*ldd+16]
		for r := range d {
			d[r] = src[r*lds+p]
		}
	}
}

// copyPanelAVX2 is the AVX2 kernel's copyPanel: 16 columns, or at most 8
// under a mask, in AVX2; other masks in Go.
func copyPanelAVX2(dst []float32, ldd int, src []float32, lds int, k int, mask uint64) {
	switch {
	case mask == 1<<16-1:
		copy16AVX2(dst, ldd, src, lds, k)
		return
	case mask < 1<<8:
		copy8AVX2(dst, ldd, src, lds, k, mask)
		return
	}
	for p := range k {
		d, s := dst[p*ldd:], src[p*lds:]
		for m, j := mask, 0; m != 0; m, j = m>>1, j+1 {
			if m&1 != 0 {
				d[j] = s[j]
			}
		}
	}
}

func bestKernel() kernel { k := kernels(); return k[len(k)-1] }

// kernels lists every micro-kernel this CPU can run, best last.
func kernels() []kernel {
	ks := []kernel{genericKernel}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel)
	}
	if hasAVX512 {
		ks = append(ks, avx512Kernel)
	}
	return ks
}

func bestSIMD() simd { s := simds(); return s[len(s)-1] }

// simds lists every elementwise kernel set this CPU can run, best last.
func simds() []simd {
	ss := []simd{genericSIMD}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA { // the squares' sum uses FMA
		ss = append(ss, avx2SIMD)
	}
	if hasAVX512 {
		ss = append(ss, avx512SIMD)
	}
	return ss
}

// avx2SIMD is the Go set with bias+ELU, ELU backward, Nadam, the optimizers' passes, the pixel conversion and
// the column sums in AVX2, each with the Go loop's bits: every operation correctly rounded, in the same order;
// the ELU forward's expm1 a fast FMA polynomial where its float32 rounding is certain, else math.Expm1's
// float64 arithmetic vectorized (see biasELUAVX2 in _asm/gen.go).
var avx2SIMD = func() simd {
	s := genericSIMD
	s.biasELU = func(x, bias []float32) {
		n := len(bias) &^ 7
		biasELUAVX2(x[:n], bias[:n])
		biasELUGeneric(x[n:len(bias)], bias[n:])
	}
	s.nadam = func(w, g, m, v []float32, c12 *[12]float32) {
		c := (*[9]float32)(c12[:9])
		n := len(w) &^ 7
		nadamAVX2For(c)(w[:n], g[:n], m[:n], v[:n], c)
		nadamGeneric(w[n:], g[n:], m[n:], v[n:], c)
	}
	s.eluBackward = func(g, a []float32) {
		n := len(g) &^ 7
		eluBackwardAVX2(g[:n], a[:n])
		eluBackwardGeneric(g[n:], a[n:len(g)])
	}
	s.adam, s.adamAMSGrad, s.sgd = adamAVX2Tail, adamAMSGradAVX2Tail, sgdAVX2Tail
	s.rmsprop = rmspropAVX2Tail
	s.adagrad = adagradAVX2Tail
	s.adadelta = adadeltaAVX2Tail
	s.lion = lionAVX2Tail
	s.adamax = adamaxAVX2Tail
	s.rmspropFull = rmspropFullAVX2Tail
	s.sumSquares, s.scale, s.clipByNorm, s.clipByValue = sumSquaresAVX2Tail, scaleAVX2Tail, clipByNormAVX2Tail, clipByValueAVX2Tail
	s.decayWeights, s.movingAverage = decayWeightsAVX2Tail, movingAverageAVX2Tail
	s.nadamWithOptions, s.adamWithOptions = nadamWithOptionsAVX2Tail, adamWithOptionsAVX2Tail
	s.ruleWithOptions = ruleWithOptionsAVX2Tail
	s.bytesToFloat, s.bytesToFloatRecip = bytesToFloatAVX2Tail, bytesToFloatFMAAVX2
	s.colSums = colSumsBy(colSums64AVX2, 64, colSums8AVX2, 8)
	return s
}()

// nadamAVX2For returns Nadam's AVX2 pass for the scalars c: without the
// divisions by 1-Πu_t+1 and 1-Πu_t where both are 1, as they are after
// Nadam's first tens of steps (the same bits: see nadam in _asm/gen.go).
func nadamAVX2For(c *[9]float32) func(w, g, m, v []float32, c *[9]float32) {
	if nadamDivisorsOne(c) {
		return nadamUnitAVX2
	}
	return nadamAVX2
}

// nadamDivisorsOne tells whether Nadam's scalars c have 1-Πu_t+1 = 1-Πu_t
// = 1, where its passes without those divisions give the same bits.
func nadamDivisorsOne(c *[9]float32) bool { return c[3] == 1 && c[5] == 1 }

// colSumsFunc sets dst[j] to the sum of g[i*ldg+j] over i < rows, rows
// added in order.
type colSumsFunc = func(dst, g []float32, ldg, rows int)

// colSumsBy returns a colSums that sums blocks of w columns with wide, then
// blocks of v columns with narrow, then the rest in Go.
func colSumsBy(wide colSumsFunc, w int, narrow colSumsFunc, v int) colSumsFunc {
	return func(dst, g []float32, ldg, rows int) {
		n, j := len(dst), 0
		if rows == 0 || n == 0 {
			clear(dst)
			return
		}
		_ = g[(rows-1)*ldg+n-1] // the kernels read unchecked
		for ; j+w <= n; j += w {
			wide(dst[j:j+w], g[j:], ldg, rows)
		}
		for ; j+v <= n; j += v {
			narrow(dst[j:j+v], g[j:], ldg, rows)
		}
		colSumsGeneric(dst[j:], g[j:], ldg, rows) // the tail
	}
}

// nadamWithAVX2 and adamWithAVX2 are the fused passes by Options.mode
// (clip << 2 | decay << 1 | average); mode 0, no option, is the rule's own
// pass.
var nadamWithAVX2 = [16]func(w, g, m, v, a []float32, c *[17][8]float32){
	nil, nadamWithEMAAVX2, nadamWithDecayAVX2, nadamWithDecayEMAAVX2,
	nadamWithClipNormAVX2, nadamWithClipNormEMAAVX2, nadamWithClipNormDecayAVX2, nadamWithClipNormDecayEMAAVX2,
	nadamWithClipScaleAVX2, nadamWithClipScaleEMAAVX2, nadamWithClipScaleDecayAVX2, nadamWithClipScaleDecayEMAAVX2,
	nadamWithClipValueAVX2, nadamWithClipValueEMAAVX2, nadamWithClipValueDecayAVX2, nadamWithClipValueDecayEMAAVX2,
}

// nadamUnitWithAVX2 are nadamWithAVX2's passes for 1-Πu_t+1 = 1-Πu_t = 1,
// without the divisions by them (see nadamAVX2For).
var nadamUnitWithAVX2 = [16]func(w, g, m, v, a []float32, c *[17][8]float32){
	nil, nadamUnitWithEMAAVX2, nadamUnitWithDecayAVX2, nadamUnitWithDecayEMAAVX2,
	nadamUnitWithClipNormAVX2, nadamUnitWithClipNormEMAAVX2, nadamUnitWithClipNormDecayAVX2, nadamUnitWithClipNormDecayEMAAVX2,
	nadamUnitWithClipScaleAVX2, nadamUnitWithClipScaleEMAAVX2, nadamUnitWithClipScaleDecayAVX2, nadamUnitWithClipScaleDecayEMAAVX2,
	nadamUnitWithClipValueAVX2, nadamUnitWithClipValueEMAAVX2, nadamUnitWithClipValueDecayAVX2, nadamUnitWithClipValueDecayEMAAVX2,
}

var adamWithAVX2 = [16]func(w, g, m, v, a []float32, c *[17][8]float32){
	nil, adamWithEMAAVX2, adamWithDecayAVX2, adamWithDecayEMAAVX2,
	adamWithClipNormAVX2, adamWithClipNormEMAAVX2, adamWithClipNormDecayAVX2, adamWithClipNormDecayEMAAVX2,
	adamWithClipScaleAVX2, adamWithClipScaleEMAAVX2, adamWithClipScaleDecayAVX2, adamWithClipScaleDecayEMAAVX2,
	adamWithClipValueAVX2, adamWithClipValueEMAAVX2, adamWithClipValueDecayAVX2, adamWithClipValueDecayEMAAVX2,
}

// nadamWithOptionsAVX2Tail and adamWithOptionsAVX2Tail are the fused
// passes in AVX2, the last len(w) mod 8 elements in Go.
var (
	nadamWithOptionsAVX2Tail = func() func(w, g, m, v, a []float32, s *WithOptions) {
		plain := func(w, g, m, v []float32, s *WithOptions) { nadamAVX2For(&s.c)(w, g, m, v, &s.c) }
		divisors := withOptionsAVX2Tail(&nadamWithAVX2, plain, nadamWithOptionsGeneric)
		unit := withOptionsAVX2Tail(&nadamUnitWithAVX2, plain, nadamWithOptionsGeneric)
		return func(w, g, m, v, a []float32, s *WithOptions) {
			if nadamDivisorsOne(&s.c) {
				unit(w, g, m, v, a, s)
			} else {
				divisors(w, g, m, v, a, s)
			}
		}
	}()
	adamWithOptionsAVX2Tail = withOptionsAVX2Tail(&adamWithAVX2,
		func(w, g, m, v []float32, s *WithOptions) { adamAVX2(w, g, m, v, (*[4]float32)(s.c[:4])) }, adamWithOptionsGeneric)
)

// withOptionsAVX2Tail returns the pass running passes[mode] (plain, the
// rule's own pass, without options) over the first len(w) &^ 7 elements
// and the Go twin over the rest.
func withOptionsAVX2Tail(passes *[16]func(w, g, m, v, a []float32, c *[17][8]float32),
	plain func(w, g, m, v []float32, s *WithOptions), twin func(w, g, m, v, a []float32, s *WithOptions)) func(w, g, m, v, a []float32, s *WithOptions) {
	return func(w, g, m, v, a []float32, s *WithOptions) {
		n := len(w) &^ 7
		var at []float32
		if a != nil {
			a, at = a[:n], a[n:]
		}
		if k := s.o.mode(); k == 0 {
			plain(w[:n], g[:n], m[:n], v[:n], s)
		} else {
			passes[k](w[:n], g[:n], m[:n], v[:n], a, &s.t)
		}
		twin(w[n:], g[n:], m[n:], v[n:], at, s)
	}
}

// ruleWithOptionsAVX2Tail is RuleWithOptions's pass in AVX2, the last
// len(w) mod 8 elements in Go.
func ruleWithOptionsAVX2Tail(r Rule, w, g []float32, slots [3][]float32, a []float32, c *StepScalars, s *WithOptions) {
	n := len(w) &^ 7
	var at []float32
	if a != nil {
		a, at = a[:n], a[n:]
	}
	x, o, mode := cutSlots(slots, 0, n), (*[6][8]float32)(s.t[9:15]), s.o.mode()
	w0, g0 := w[:n], g[:n]
	switch r {
	case RuleSGD:
		sgdWithOptionsAVX2(w0, g0, a, &c.c, o, mode)
	case RuleSGDMomentum:
		sgdMomentumWithOptionsAVX2(w0, g0, x[0], a, &c.c, o, mode)
	case RuleSGDNesterov:
		sgdNesterovWithOptionsAVX2(w0, g0, x[0], a, &c.c, o, mode)
	case RuleRMSprop:
		rmspropWithOptionsAVX2(w0, g0, x[0], a, c.four(), o, mode)
	case RuleRMSpropCentered:
		rmspropCenteredWithOptionsAVX2(w0, g0, x[0], x[1], a, &c.c, o, mode)
	case RuleRMSpropMomentum:
		rmspropMomentumWithOptionsAVX2(w0, g0, x[0], x[1], a, &c.c, o, mode)
	case RuleRMSpropCenteredMomentum:
		rmspropCenteredMomentumWithOptionsAVX2(w0, g0, x[0], x[1], x[2], a, &c.c, o, mode)
	case RuleAdagrad:
		adagradWithOptionsAVX2(w0, g0, x[0], a, c.four(), o, mode)
	case RuleAdadelta:
		adadeltaWithOptionsAVX2(w0, g0, x[0], x[1], a, c.four(), o, mode)
	case RuleLion:
		lionWithOptionsAVX2(w0, g0, x[0], a, &c.c, o, mode)
	case RuleAdamax:
		adamaxWithOptionsAVX2(w0, g0, x[0], x[1], a, &c.c, o, mode)
	case RuleAdamAMSGrad:
		adamAMSGradWithOptionsAVX2(w0, g0, x[0], x[1], x[2], a, c.four(), o, mode)
	default:
		panic("tensor: unknown rule")
	}
	ruleWithOptionsGeneric(r, w[n:], g[n:], cutSlots(slots, n, len(w)), at, c, s)
}

// The base options' passes in AVX2, the last elements (len mod 8; mod 16
// for the sum) in Go.

// bytesToFloatAVX2Tail converts by the reciprocal's corrected product
// where s.recip says it gives the quotients' bits, else by division; the
// last len(src) mod 16 values through the table.
func bytesToFloatAVX2Tail(dst []float32, src []uint8, s *byteScale) {
	n := len(src) &^ 15
	if s.recip {
		bytesToFloatFMAAVX2(dst[:n], src[:n], &s.c)
	} else {
		bytesToFloatAVX2(dst[:n], src[:n], s.div)
	}
	bytesToFloatGeneric(dst[n:], src[n:], s)
}

func sumSquaresAVX2Tail(x []float32) float64 {
	n := len(x) &^ 15
	return sumSquaresTail(sumSquaresAVX2(x[:n]), x[n:])
}

func scaleAVX2Tail(x []float32, s float32) {
	n := len(x) &^ 7
	scaleAVX2(x[:n], s)
	scaleGeneric(x[n:], s)
}

func clipByNormAVX2Tail(x []float32, c, d float32) {
	n := len(x) &^ 7
	clipByNormAVX2(x[:n], c, d)
	clipByNormGeneric(x[n:], c, d)
}

func clipByValueAVX2Tail(x []float32, lo, hi float32) {
	n := len(x) &^ 7
	clipByValueAVX2(x[:n], lo, hi)
	clipByValueGeneric(x[n:], lo, hi)
}

func decayWeightsAVX2Tail(w []float32, wd, lr float32) {
	n := len(w) &^ 7
	decayWeightsAVX2(w[:n], wd, lr)
	decayWeightsGeneric(w[n:], wd, lr)
}

func movingAverageAVX2Tail(a, w []float32, m, om float32) {
	n := len(a) &^ 7
	movingAverageAVX2(a[:n], w[:n], m, om)
	movingAverageGeneric(a[n:], w[n:], m, om)
}

func rmspropAVX2Tail(w, g, v []float32, c *[4]float32) {
	n := len(w) &^ 7
	rmspropAVX2(w[:n], g[:n], v[:n], c)
	rmspropGeneric(w[n:], g[n:], v[n:], c)
}

func adagradAVX2Tail(w, g, a []float32, c *[4]float32) {
	n := len(w) &^ 7
	adagradAVX2(w[:n], g[:n], a[:n], c)
	adagradGeneric(w[n:], g[n:], a[n:], c)
}

func adadeltaAVX2Tail(w, g, ga, da []float32, c *[4]float32) {
	n := len(w) &^ 7
	adadeltaAVX2(w[:n], g[:n], ga[:n], da[:n], c)
	adadeltaGeneric(w[n:], g[n:], ga[n:], da[n:], c)
}

func lionAVX2Tail(w, g, m []float32, c *[8]float32) {
	n := len(w) &^ 7
	lionAVX2(w[:n], g[:n], m[:n], c)
	lionGeneric(w[n:], g[n:], m[n:], c)
}

func adamaxAVX2Tail(w, g, m, u []float32, c *[8]float32) {
	n := len(w) &^ 7
	adamaxAVX2(w[:n], g[:n], m[:n], u[:n], c)
	adamaxGeneric(w[n:], g[n:], m[n:], u[n:], c)
}

func rmspropFullAVX2Tail(w, g, v, a, b []float32, c *[8]float32) {
	n := len(w) &^ 7
	switch {
	case a != nil && b != nil:
		rmspropCenteredMomentumAVX2(w[:n], g[:n], v[:n], a[:n], b[:n], c)
		a, b = a[n:], b[n:]
	case a != nil:
		rmspropCenteredAVX2(w[:n], g[:n], v[:n], a[:n], c)
		a = a[n:]
	case b != nil:
		rmspropMomentumAVX2(w[:n], g[:n], v[:n], b[:n], c)
		b = b[n:]
	default:
		n = 0
	}
	rmspropFullGeneric(w[n:], g[n:], v[n:], a, b, c)
}

func adamAMSGradAVX2Tail(w, g, m, v, vh []float32, c *[4]float32) {
	n := len(w) &^ 7
	adamAMSGradAVX2(w[:n], g[:n], m[:n], v[:n], vh[:n], c)
	adamAMSGradGeneric(w[n:], g[n:], m[n:], v[n:], vh[n:], c)
}

func sgdAVX2Tail(w, g, m []float32, nesterov bool, c *[8]float32) {
	n := len(w) &^ 7
	switch {
	case m == nil:
		sgdAVX2(w[:n], g[:n], c)
	case nesterov:
		sgdNesterovAVX2(w[:n], g[:n], m[:n], c)
		m = m[n:]
	default:
		sgdMomentumAVX2(w[:n], g[:n], m[:n], c)
		m = m[n:]
	}
	sgdGeneric(w[n:], g[n:], m, nesterov, c)
}

// adamAVX2Tail is Adam in AVX2, the last len(w) mod 8 elements in Go.
func adamAVX2Tail(w, g, m, v []float32, c *[4]float32) {
	n := len(w) &^ 7
	adamAVX2(w[:n], g[:n], m[:n], v[:n], c)
	adamGeneric(w[n:], g[n:], m[n:], v[n:], c)
}

var avx512SIMD = simd{
	adam: adamAVX512Tail, adamAMSGrad: adamAMSGradAVX512Tail, sgd: sgdAVX512Tail, rmsprop: rmspropAVX512Tail, adagrad: adagradAVX512Tail, adadelta: adadeltaAVX512Tail,
	lion: lionAVX512Tail, adamax: adamaxAVX512Tail, rmspropFull: rmspropFullAVX512Tail,
	// The base options' own passes in AVX2 (AVX-512 machines have it): they
	// run only where no rule fuses them.
	sumSquares: sumSquaresAVX2Tail, scale: scaleAVX2Tail, clipByNorm: clipByNormAVX2Tail, clipByValue: clipByValueAVX2Tail,
	decayWeights: decayWeightsAVX2Tail, movingAverage: movingAverageAVX2Tail,
	nadamWithOptions: nadamWithOptionsAVX512Tail, adamWithOptions: adamWithOptionsAVX512Tail,
	ruleWithOptions: ruleWithOptionsAVX512Tail,
	biasELU: func(x, bias []float32) {
		n := len(bias) &^ 15
		biasELUAVX512(x[:n], bias[:n])
		if n < len(bias) { // the tail through a padded block: same arithmetic
			var xt, bt [16]float32
			copy(xt[:], x[n:len(bias)])
			copy(bt[:], bias[n:])
			biasELUAVX512(xt[:], bt[:])
			copy(x[n:len(bias)], xt[:])
		}
	},
	eluBackward: func(g, a []float32) {
		n := len(g) &^ 15
		eluBackwardAVX512(g[:n], a[:n])
		eluBackwardGeneric(g[n:], a[n:])
	},
	nadam: func(w, g, m, v []float32, c12 *[12]float32) {
		c := (*[9]float32)(c12[:9])
		n := len(w) &^ 15
		switch {
		case c12[9] == 0 || c12[10] == 0 || c12[11] == 0: // a divisor out of the reciprocals' range
			nadamAVX512(w[:n], g[:n], m[:n], v[:n], c)
		case nadamDivisorsOne(c):
			nadamRecipUnitAVX512(w[:n], g[:n], m[:n], v[:n], c12)
		default:
			nadamRecipAVX512(w[:n], g[:n], m[:n], v[:n], c12)
		}
		nadamGeneric(w[n:], g[n:], m[n:], v[n:], c)
	},
	colSums: colSumsBy(colSums128AVX512, 128, colSums16AVX512, 16),
	bytesToFloat: func(dst []float32, src []uint8, s *byteScale) {
		n := len(src) &^ 15
		bytesToFloatAVX512(dst[:n], src[:n], s.div)
		bytesToFloatGeneric(dst[n:], src[n:], s)
	},
}
