package optim

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
)

// base is what Keras 3's BaseOptimizer (keras/src/optimizers/base_optimizer.py)
// does around an optimizer's update_step. One Step is, in Keras's order:
//
//	lr = learning_rate(iterations)          (a constant, or the schedule's value)
//	g  = clip(g)                            (clipnorm | global_clipnorm | clipvalue)
//	w  = w - w * weight_decay * lr          (decoupled, for every optimizer)
//	update_step(g, w, lr)                   (the optimizer's rule)
//	average = m average + (1 - m) w         (use_ema; m = 0 on the first step,
//	                                          else ema_momentum)
//	w = average                             (every ema_overwrite_frequency steps)
//	iterations += 1
//
// All arithmetic on the parameters is float32, as in Keras with float32
// variables. Keras runs each stage over every variable before the next;
// here all the stages run in one parallel pass, inside the rule's own
// vector pass (optionsChunk), which gives the same bits because an
// element's stages read only that element. The pass is split
// over the engine's workers by element, and the norms are summed per chunk
// in chunk order, so that no result depends on the number of threads.
type base struct {
	name     string
	lr       Schedule
	constant float64 // the rate while lr is a Constant; SetLearningRate changes it
	// momentum points at the rule's momentum (SGD) or beta_1, which a
	// MomentumSchedule sets before each step; nil if it has none.
	momentum *float64
	// beta1Divides: the rule divides by 1-beta_1^t (Adam, AdamW, Adamax),
	// so a schedule may not cycle its beta_1 to 1.
	beta1Divides bool

	weightDecay, clipNorm, clipValue, globalClipNorm float64
	useEMA                                           bool
	emaMomentum                                      float64
	emaOverwrite                                     int64

	iterations int64

	// The rule's per-parameter slots (Keras names and initial values) and
	// scalar variables, declared by its constructor.
	slotNames   []string
	slotInit    []float32
	scalarNames []string
	scalarInit  []float32
	// prepareStep sets the rule's scalars of the step for learning rate lr
	// (once, before any element is updated); updateChunk applies the rule
	// to elements lo to hi-1 of parameter k (Keras's update_step).
	prepareStep func(lr float32)
	updateChunk func(k, lo, hi int, g []float32)
	// Every rule sets setOptions, which sets fused[k] to its scalars and
	// parameter k's options o of the step (after prepareStep), and
	// fusedChunk, which runs its pass with the options over elements lo to
	// hi-1 of parameter k (Nadam and Adam directly, the others by fuse).
	setOptions func(k int, o tensor.Options)
	fusedChunk func(k, lo, hi int, g []float32)
	// A rule that fuses its pass through tensor's RuleWithOptions (fuse).
	rule      tensor.Rule
	ruleKern  *tensor.StepScalars
	ruleSlots []int

	// Built for the parameters of the first Step.
	built   bool
	lens    []int         // parameter lengths
	offsets []int         // index of each parameter's first chunk
	slots   [][][]float32 // [slot][parameter]
	scalars [][]float32   // each one element
	average [][]float32   // use_ema's moving averages
	state   []Slot        // every variable, named, sharing memory
	partial []float64     // per-chunk sums of squares (clipping)
	fused   []tensor.WithOptions
	serial  *tensor.Engine

	// The step in flight, for the passes (bound once: no allocation).
	params                          []nn.Param
	e                               *tensor.Engine
	lr32, decay, emaM, emaOneMinusM float32
	overwrite                       bool      // the average replaces the weights this step
	clipScale                       []float32 // per parameter: its norm (clipnorm) or the scale (global_clipnorm)
	normTask, stepTask              func(k, lo, hi int)
	optionsTask                     func(k, lo, hi int, g []float32)
	task                            func(k, lo, hi int, g []float32) // the step's pass: optionsTask with options, else updateChunk
}

func (b *base) core() *base { return b }

// addSlot declares a per-parameter slot variable (Keras's
// add_variable_from_reference) with its initial value, and returns its
// index for slot.
func (b *base) addSlot(name string, init float32) int {
	b.slotNames = append(b.slotNames, name)
	b.slotInit = append(b.slotInit, init)
	return len(b.slotNames) - 1
}

// addScalar declares a scalar optimizer variable (Keras's add_variable).
func (b *base) addScalar(name string, init float32) int {
	b.scalarNames = append(b.scalarNames, name)
	b.scalarInit = append(b.scalarInit, init)
	return len(b.scalarNames) - 1
}

// fuse makes the options run inside the rule's pass r (tensor's
// RuleWithOptions) with the step's scalars *kern and the slots of the
// indices given, in the pass's order.
func (b *base) fuse(r tensor.Rule, kern *tensor.StepScalars, slots ...int) {
	b.rule, b.ruleKern, b.ruleSlots = r, kern, slots
	b.setOptions, b.fusedChunk = b.setRuleOptions, b.ruleChunk
}

func (b *base) setRuleOptions(k int, o tensor.Options) { b.fused[k].SetOptions(o) }

// ruleChunk is the rule's pass with the options over one chunk.
func (b *base) ruleChunk(k, lo, hi int, g []float32) {
	var x [3][]float32
	for i, s := range b.ruleSlots {
		x[i] = b.slots[s][k][lo:hi]
	}
	b.e.RuleWithOptions(b.rule, b.params[k].Value[lo:hi], g, x, b.averageChunk(k, lo, hi), b.ruleKern, &b.fused[k])
}

// averageChunk returns elements lo to hi-1 of parameter k's moving
// average, nil without use_ema.
func (b *base) averageChunk(k, lo, hi int) []float32 {
	if !b.useEMA {
		return nil
	}
	return b.average[k][lo:hi]
}

// slot returns slot i of parameter k.
func (b *base) slot(i, k int) []float32 { return b.slots[i][k] }

// readOptions reads the arguments every Keras optimizer takes.
func (b *base) readOptions(r *argReader) {
	b.weightDecay = r.float("weight_decay", b.weightDecay, 0, math.MaxFloat32)
	b.clipNorm = r.float("clipnorm", 0, 0, math.MaxFloat32)
	b.clipValue = r.float("clipvalue", 0, 0, math.MaxFloat32)
	b.globalClipNorm = r.float("global_clipnorm", 0, 0, math.MaxFloat32)
	var set []string
	for _, c := range []struct {
		key string
		v   float64
	}{{"clipnorm", b.clipNorm}, {"clipvalue", b.clipValue}, {"global_clipnorm", b.globalClipNorm}} {
		if c.v > 0 {
			set = append(set, c.key)
		}
	}
	if len(set) > 1 && r.err == nil {
		r.err = &ConflictError{Owner: r.owner, Keys: set, Why: "each clips the gradients its own way, as Keras's clipnorm, clipvalue and global_clipnorm"}
	}
	b.useEMA = r.boolean("use_ema", false)
	b.emaMomentum = r.float("ema_momentum", 0.99, 0, 1)
	b.emaOverwrite = r.integer("ema_overwrite_frequency", 0, 1, math.MaxInt32)
	r.str("name", "")
	if v, ok := r.number("loss_scale_factor"); ok && v != 1 {
		r.fail("loss_scale_factor = %g: not supported (cifarnet trains in float32)", v)
	}
	if v, ok := r.number("gradient_accumulation_steps"); ok && v != 1 {
		r.fail("gradient_accumulation_steps = %g: not supported", v)
	}
}

// Name implements Optimizer.
func (b *base) Name() string { return b.name }

// Iterations implements Optimizer.
func (b *base) Iterations() int64 { return b.iterations }

// Scheduled implements Optimizer.
func (b *base) Scheduled() bool {
	_, c := b.lr.(Constant)
	return !c
}

// LearningRate implements Optimizer.
func (b *base) LearningRate() float64 {
	if !b.Scheduled() {
		return b.constant
	}
	return b.lr.At(b.iterations)
}

// SetLearningRate implements Optimizer.
func (b *base) SetLearningRate(lr float64) error {
	if b.Scheduled() {
		return fmt.Errorf("%s: the learning rate follows a schedule and cannot be set (give a constant learning rate to change it during training)", b.name)
	}
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("%s: learning rate %g: want a finite number >= 0", b.name, lr)
	}
	b.constant = float64(float32(lr)) // a float32 variable in Keras
	return nil
}

// Build implements Optimizer.
func (b *base) Build(params []nn.Param) {
	if b.built && len(params) == len(b.lens) {
		return
	}
	b.built = true
	b.lens, b.offsets, b.state = make([]int, len(params)), make([]int, len(params)), nil
	chunks := 0
	for k, p := range params {
		b.lens[k], b.offsets[k] = len(p.Value), chunks
		chunks += (len(p.Value) + tensor.ChunkSize - 1) / tensor.ChunkSize
	}
	b.partial = make([]float64, chunks)
	b.fused = make([]tensor.WithOptions, len(params))
	b.clipScale = make([]float32, len(params))
	prefix := make([]string, len(params))
	for k, p := range params {
		prefix[k] = strings.ReplaceAll(p.Name, "/", "_")
		if p.Name == "" {
			prefix[k] = "variable_" + strconv.Itoa(k)
		}
	}
	perParam := func(name string, init float32) [][]float32 {
		s := make([][]float32, len(params))
		for k, p := range params {
			s[k] = make([]float32, len(p.Value))
			if init != 0 {
				for i := range s[k] {
					s[k][i] = init
				}
			}
			b.state = append(b.state, Slot{Name: prefix[k] + "_" + name, Data: s[k]})
		}
		return s
	}
	b.average = nil
	if b.useEMA { // Keras's base build adds the averages before the rule's slots
		b.average = perParam("average", 0)
	}
	b.slots = make([][][]float32, len(b.slotNames))
	for i, n := range b.slotNames {
		b.slots[i] = perParam(n, b.slotInit[i])
	}
	b.scalars = make([][]float32, len(b.scalarNames))
	for i, n := range b.scalarNames {
		b.scalars[i] = []float32{b.scalarInit[i]}
		b.state = append(b.state, Slot{Name: n, Data: b.scalars[i]})
	}
	b.normTask, b.optionsTask, b.stepTask = b.normChunk, b.optionsChunk, b.stepChunk
	b.task = b.updateChunk
	if b.hasOptions() {
		b.task = b.optionsTask
	}
}

// Step implements Optimizer. The whole step is one parallel pass over the
// parameters (two with clipnorm or global_clipnorm, whose norms must be
// known first).
func (b *base) Step(e *tensor.Engine, params []nn.Param) {
	b.begin(e, params)
	b.squareGradients()
	b.prepareOptions()
	b.e.ForChunks(b.lens, b.stepTask)
	b.End()
}

// hasOptions tells whether any base option is on, so that the step runs
// them inside the rule's pass (optionsTask).
func (b *base) hasOptions() bool {
	return b.needsNorms() || b.clipValue > 0 || b.weightDecay != 0 || b.useEMA
}

// needsNorms tells whether the step needs the gradients' norms before it
// can update any element (clipnorm, global_clipnorm).
func (b *base) needsNorms() bool { return b.clipNorm > 0 || b.globalClipNorm > 0 }

// squareGradients sums the squares of the gradients per chunk (a pass of
// its own) if the step needs their norms.
func (b *base) squareGradients() {
	if b.needsNorms() {
		b.e.ForChunks(b.lens, b.normTask)
	}
}

// Begin implements Optimizer: everything of Step before its pass, unless
// clipnorm or global_clipnorm needs every gradient's norm first.
func (b *base) Begin(e *tensor.Engine, params []nn.Param) bool {
	if b.needsNorms() {
		return false
	}
	b.begin(e, params)
	b.prepareOptions()
	return true
}

// begin sets up a step: the parameters and engine, the momentum a
// schedule cycles, the learning rate and the rule's scalars.
func (b *base) begin(e *tensor.Engine, params []nn.Param) {
	if e == nil {
		if b.serial == nil {
			b.serial = tensor.NewEngine(1) // no worker goroutines to stop
		}
		e = b.serial
	}
	b.Build(params)
	b.params, b.e = params, e
	if m, ok := b.lr.(MomentumSchedule); ok && m.CyclesMomentum() && b.momentum != nil {
		*b.momentum = m.Momentum(b.iterations)
	}
	b.lr32 = float32(b.LearningRate())
	b.prepareStep(b.lr32)
}

// Update implements Optimizer.
func (b *base) Update(k, lo, hi int, grad []float32) {
	if grad == nil {
		grad = b.params[k].Grad[lo:hi]
	}
	b.task(k, lo, hi, grad[:hi-lo])
}

// stepChunk is Step's pass over one chunk, on the parameter's gradient.
func (b *base) stepChunk(k, lo, hi int) { b.task(k, lo, hi, b.params[k].Grad[lo:hi]) }

// End implements Optimizer.
func (b *base) End() {
	b.iterations++
	b.params, b.e = nil, nil
}

// Finalize implements Optimizer.
func (b *base) Finalize(params []nn.Param) {
	if !b.useEMA || !b.built {
		return
	}
	for k, p := range params {
		copy(p.Value, b.average[k])
	}
}

// prepareOptions sets the step's scalars of the options, if any: the
// gradients' norms (from the squares squareGradients summed per chunk,
// added in chunk order: the same bits at any number of threads), the
// decay, the average's momentum (0 on the first step, as Keras's) and
// whether the average replaces the weights this step.
func (b *base) prepareOptions() {
	if !b.hasOptions() {
		return
	}
	switch {
	case b.clipNorm > 0:
		for k := range b.lens {
			b.clipScale[k] = float32(math.Sqrt(b.sumSquares(k)))
		}
	case b.globalClipNorm > 0:
		// Every gradient times clip * min(1/‖all‖, 1/clip) (NaN if the
		// norm is not finite, as in Keras's clip_by_global_norm).
		var sum float64
		for k := range b.lens {
			sum += b.sumSquares(k)
		}
		norm := float32(math.Sqrt(sum))
		c := float32(b.globalClipNorm)
		scale := c*min(1/norm, 1/c) + (norm - norm)
		for k := range b.clipScale {
			b.clipScale[k] = scale
		}
	}
	// Keras: variable - variable * wd * lr, wd and lr in float32.
	b.decay = float32(b.weightDecay)
	b.emaM = 0
	if b.iterations != 0 {
		b.emaM = float32(b.emaMomentum)
	}
	b.emaOneMinusM = 1 - b.emaM
	b.overwrite = b.useEMA && b.emaOverwrite > 0 && (b.iterations+1)%b.emaOverwrite == 0
	for k := range b.lens {
		b.setOptions(k, b.options(k))
	}
}

// options returns parameter k's options of the step: the clip (clipnorm's
// g c / max(‖g‖, c), none where the norm is 0 as Keras's two-tap where
// leaves a zero gradient; global_clipnorm's scale; clipvalue's bounds),
// the decay and the average.
func (b *base) options(k int) tensor.Options {
	var o tensor.Options
	switch {
	case b.clipNorm > 0:
		if norm := b.clipScale[k]; norm != 0 {
			c := float32(b.clipNorm)
			o.Clip, o.C, o.D = tensor.ClipNorm, c, max(norm, c)
			if o.C == 1 && o.D == 1 {
				// (g·1)/1 is g·1 for every float32, NaNs quieted alike
				// (both round exactly, or return the quieted NaN): the
				// same bits without a division.
				o.Clip, o.D = tensor.ClipScale, 0
			}
		}
	case b.globalClipNorm > 0:
		o.Clip, o.C = tensor.ClipScale, b.clipScale[k]
	case b.clipValue > 0:
		v := float32(b.clipValue)
		o.Clip, o.C, o.D = tensor.ClipValue, -v, v
	}
	if b.weightDecay != 0 {
		o.Decay, o.WD, o.LR = true, b.decay, b.lr32
	}
	if b.useEMA {
		o.EMA, o.M, o.OM = true, b.emaM, b.emaOneMinusM
	}
	return o
}

// sumSquares adds up parameter k's per-chunk sums of squares in order.
func (b *base) sumSquares(k int) float64 {
	var s float64
	n := (b.lens[k] + tensor.ChunkSize - 1) / tensor.ChunkSize
	for _, v := range b.partial[b.offsets[k] : b.offsets[k]+n] {
		s += v
	}
	return s
}

func (b *base) normChunk(k, lo, hi int) {
	b.partial[b.offsets[k]+lo/tensor.ChunkSize] = b.e.SumSquares(b.params[k].Grad[lo:hi])
}

// optionsChunk steps elements lo to hi-1 of parameter k with the options,
// in Keras 3's order (BaseOptimizer.apply): clip the gradient
// (_clip_gradients), decay the weight (_apply_weight_decay), the rule's
// update_step, the moving average (_update_model_variables_moving_average)
// and, every ema_overwrite_frequency steps, the weight from the average
// (_overwrite_model_variables_with_average_value). Keras runs each stage
// over every variable before the next; since an element's stages read
// only that element and the step's scalars, the rule's pass runs them all
// per element (tensor's NadamWithOptions, AdamWithOptions and
// RuleWithOptions, set up by options and the rule's setOptions), the same
// bits in one trip through memory.
func (b *base) optionsChunk(k, lo, hi int, g []float32) {
	b.fusedChunk(k, lo, hi, g)
	if b.overwrite {
		copy(b.params[k].Value[lo:hi], b.average[k][lo:hi])
	}
}

// State implements Optimizer.
func (b *base) State() State {
	s := State{Iterations: b.iterations, Slots: b.state}
	if !b.Scheduled() {
		lr := b.constant
		s.LearningRate = &lr
	}
	return s
}

// Restore implements Optimizer.
func (b *base) Restore(s State, params []nn.Param) error {
	if s.Iterations < 0 {
		return fmt.Errorf("%s: iterations %d: want >= 0", b.name, s.Iterations)
	}
	b.built = false
	b.Build(params)
	got := map[string][]float32{}
	for _, sl := range s.Slots {
		if _, dup := got[sl.Name]; dup {
			return fmt.Errorf("%s: the state names variable %q twice", b.name, sl.Name)
		}
		got[sl.Name] = sl.Data
	}
	// A state saved before the first step (an interrupt during the first
	// batch) has no variables yet: the freshly built ones are that state.
	fresh := s.Iterations == 0 && len(s.Slots) == 0
	for _, sl := range b.state {
		d, ok := got[sl.Name]
		if !ok && fresh {
			continue
		}
		if !ok {
			return fmt.Errorf("%s: the state has no variable %q", b.name, sl.Name)
		}
		if len(d) != len(sl.Data) {
			return fmt.Errorf("%s: variable %q has %d values, want %d", b.name, sl.Name, len(d), len(sl.Data))
		}
		delete(got, sl.Name)
	}
	for n := range got {
		return fmt.Errorf("%s: the state has variable %q, which this optimizer does not have (another optimizer or other options?)", b.name, n)
	}
	if s.LearningRate != nil {
		if b.Scheduled() {
			return fmt.Errorf("%s: the state has a constant learning rate, but a schedule drives this optimizer's", b.name)
		}
		if err := b.SetLearningRate(*s.LearningRate); err != nil {
			return err
		}
	}
	for _, sl := range s.Slots {
		for _, own := range b.state {
			if own.Name == sl.Name {
				copy(own.Data, sl.Data)
			}
		}
	}
	b.iterations = s.Iterations
	return nil
}
