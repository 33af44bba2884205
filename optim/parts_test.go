package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
)

// TestStepInPartsGivesStepBits: Begin, Update over every element once (in
// ranges of random sizes, in a random order, several at the same time)
// and End give Step's bits for every optimizer with and without each base
// option: the weights, the slots and the iteration count, over steps with
// the first moving average and overwrites. Begin refuses clipnorm and
// global_clipnorm (whose norms need every gradient) and changes nothing
// then.
func TestStepInPartsGivesStepBits(t *testing.T) {
	options := []Args{
		nil, {"clipvalue": 0.05}, {"weight_decay": 0.1}, {"use_ema": true, "ema_overwrite_frequency": 2},
		{"clipvalue": 0.5, "weight_decay": 0.004, "use_ema": true, "ema_momentum": 0.9, "ema_overwrite_frequency": 3},
		{"clipnorm": 0.5}, {"global_clipnorm": 0.7, "use_ema": true},
	}
	e := tensor.NewEngine(2)
	defer e.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, r := range everyRule {
		for _, opt := range options {
			args := withArgs(r.args, opt)
			whole, err := Build(r.name, Constant(0.01), args)
			if err != nil {
				t.Fatal(err)
			}
			parts, _ := Build(r.name, Constant(0.01), args)
			_, needsNorms := args["clipnorm"]
			if _, ok := args["global_clipnorm"]; ok {
				needsNorms = true
			}
			p1, p2 := testParams(7), testParams(7)
			for step := range 4 {
				what := fmt.Sprintf("%s %v, step %d", r.name, args, step)
				fillGrads(p1, step)
				fillGrads(p2, step)
				whole.Step(e, p1)
				if !parts.Begin(e, p2) {
					if !needsNorms {
						t.Fatalf("%s: Begin refused a step that needs no norms", what)
					}
					if parts.Iterations() != int64(step) {
						t.Fatalf("%s: a refused Begin changed the iterations to %d", what, parts.Iterations())
					}
					parts.Step(e, p2)
				} else {
					if needsNorms {
						t.Fatalf("%s: Begin took a step that needs every gradient's norm", what)
					}
					stepInParts(t, parts, p2, rng)
					parts.End()
				}
				sameBits(t, what+": weights", p1, p2)
				s1, s2 := whole.State(), parts.State()
				for i := range s1.Slots {
					sameFloats(t, what+": "+s1.Slots[i].Name, s1.Slots[i].Data, s2.Slots[i].Data)
				}
				if s1.Iterations != s2.Iterations {
					t.Fatalf("%s: %d iterations, want %d", what, s2.Iterations, s1.Iterations)
				}
			}
		}
	}
}

// stepInParts updates every element of ps once through o.Update, in ranges
// of random sizes taken in a random order, three goroutines at a time;
// every other range's gradient is handed over as a copy (as a backward
// pass hands over a block it never stored), which the step must use in
// place of the parameter's Grad, leaving that untouched.
func stepInParts(t *testing.T, o Optimizer, ps []nn.Param, rng *rand.Rand) {
	type span struct {
		k, lo, hi int
		grad      []float32 // a copy, or nil for the parameter's Grad
	}
	var spans []span
	for k, p := range ps {
		for lo := 0; lo < len(p.Value); {
			hi := min(len(p.Value), lo+1+rng.IntN(3000))
			s := span{k: k, lo: lo, hi: hi}
			if len(spans)%2 == 1 {
				s.grad = append([]float32(nil), p.Grad[lo:hi]...)
				// What the parameter's Grad holds there must not be read.
				for i := lo; i < hi; i++ {
					p.Grad[i] = float32(math.NaN())
				}
			}
			spans = append(spans, s)
			lo = hi
		}
	}
	rng.Shuffle(len(spans), func(i, j int) { spans[i], spans[j] = spans[j], spans[i] })
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(spans); i += 3 {
				s := spans[i]
				o.Update(s.k, s.lo, s.hi, s.grad)
			}
		}()
	}
	wg.Wait()
	for _, s := range spans {
		if s.grad == nil {
			continue
		}
		for i, v := range ps[s.k].Grad[s.lo:s.hi] {
			if !math.IsNaN(float64(v)) {
				t.Fatalf("parameter %d: Update with a gradient given wrote %v into its Grad[%d]", s.k, v, s.lo+i)
			}
		}
	}
}
