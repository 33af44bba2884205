package experiment

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cifarnet/cifarnet/internal/race"
	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/rundir"
	"github.com/cifarnet/cifarnet/saving"
	"github.com/cifarnet/cifarnet/tensor"
	"github.com/cifarnet/cifarnet/train"
)

// TestCPUShare follows the CPUs of an experiment on 4 CPUs, 2 runs at a
// time of 2 threads: nothing moves while runs are left to start; then the
// CPUs of each run that returns go to those still running.
func TestCPUShare(t *testing.T) {
	run := func(c *cpuShare, threads int) *tensor.ThreadTarget { c.handOut(); return c.start(threads) }
	c := &cpuShare{total: 4}
	a, b := run(c, 2), run(c, 2)
	c.end(a)
	d := run(c, 2) // took a's place
	if b.Get() != 2 || d.Get() != 2 {
		t.Fatalf("runs left to start, yet threads %d and %d, want 2 and 2", b.Get(), d.Get())
	}
	c.allSent()
	if b.Get() != 2 || d.Get() != 2 {
		t.Fatalf("every run started, two running on 4 CPUs: threads %d and %d, want 2 and 2", b.Get(), d.Get())
	}
	c.end(b)
	if d.Get() != 4 {
		t.Fatalf("the last run running has %d threads, want the 4 CPUs", d.Get())
	}
	// Three runs on 4 CPUs after one of four returned: the first takes
	// the remainder.
	g := &cpuShare{total: 4}
	r := []*tensor.ThreadTarget{run(g, 1), run(g, 1), run(g, 1), run(g, 1)}
	g.allSent()
	g.end(r[1])
	if r[0].Get() != 2 || r[2].Get() != 1 || r[3].Get() != 1 {
		t.Fatalf("threads %d, %d, %d, want 2, 1, 1", r[0].Get(), r[2].Get(), r[3].Get())
	}
	// More runs at once than CPUs (--parallel 3 on 2): none gets more
	// than one thread until one run is left.
	o := &cpuShare{total: 2}
	u := []*tensor.ThreadTarget{run(o, 1), run(o, 1), run(o, 1)}
	o.allSent()
	o.end(u[0])
	if u[1].Get() != 1 || u[2].Get() != 1 {
		t.Fatalf("2 runs left on 2 CPUs: threads %d and %d, want 1 and 1", u[1].Get(), u[2].Get())
	}
	o.end(u[1])
	if u[2].Get() != 2 {
		t.Fatalf("the last run on 2 CPUs has %d threads, want 2", u[2].Get())
	}
	// Threads fixed by the user (total 0) never change.
	f := &cpuShare{}
	x, y := run(f, 1), run(f, 1)
	f.allSent()
	f.end(x)
	if y.Get() != 1 {
		t.Fatalf("threads fixed at 1, yet the last run got %d", y.Get())
	}
	// The last run handed out, received by its worker but not yet
	// started when allSent comes: nothing moves until it registers, then
	// the CPUs are divided among both (the sequence oversubscribed them).
	m := &cpuShare{total: 2}
	ma, mb := run(m, 1), run(m, 1)
	m.end(ma)
	m.handOut()
	m.allSent()
	if mb.Get() != 1 {
		t.Fatalf("a run handed out but not started, yet the running one took %d threads, want 1", mb.Get())
	}
	md := m.start(1)
	if mb.Get() != 1 || md.Get() != 1 {
		t.Fatalf("2 runs on 2 CPUs: threads %d and %d, want 1 and 1", mb.Get(), md.Get())
	}
	m.end(md)
	if mb.Get() != 2 {
		t.Fatalf("the last run on 2 CPUs has %d threads, want 2", mb.Get())
	}
	// A run handed out and then skipped (interrupted) counts off.
	k := &cpuShare{total: 2}
	ka := run(k, 1)
	k.handOut()
	k.allSent()
	k.skip()
	if ka.Get() != 2 {
		t.Fatalf("the only run left after a skip has %d threads, want 2", ka.Get())
	}
}

// TestLastRunGetsTheCPUs runs a long run beside two short ones, 2 at a
// time on 2 CPUs: once the short ones have returned, the long one trains
// on both CPUs, and its model is byte-identical to the run trained alone.
// It depends on timing with a wide margin (the 12-epoch run takes about
// ten times as long as a short run with its report), and cannot see a
// run registered after the CPUs were divided: TestCPUShare covers that.
func TestLastRunGetsTheCPUs(t *testing.T) {
	if race.Enabled {
		// The margin is gone: the short runs' reports, pure Go, slow down
		// several times more than the long run's training.
		t.Skip("depends on the runs' relative times, which the race detector changes")
	}
	src := sharedData(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	s := &Spec{Base: []Setting{{"test-samples", "100"}},
		Grid: []Axis{{"epochs", []string{"1", "12"}}}, Seeds: []uint64{0, 1}, NamedSeed: 0}
	runs, err := Plan(t.TempDir(), s, testApply)
	if err != nil {
		t.Fatal(err)
	}
	short0, short1, long := runs[0], runs[1], runs[2] // epochs 1 seeds 0 and 1, epochs 12 seed 0
	if err := Execute([]Run{short0, long, short1}, Options{Source: src, Parallel: 2}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Run{short0, long, short1} {
		_, m, err := train.ReadRun(r.Dir)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if r.Dir == long.Dir {
			want = 2
		}
		if m.Env.Threads != 1 || m.Env.ThreadsRaisedTo != want {
			t.Errorf("%s seed %d: threads %d, raised to %d; want 1, raised to %d", r.Label, r.Seed, m.Env.Threads, m.Env.ThreadsRaisedTo, want)
		}
	}
	if page, err := os.ReadFile(filepath.Join(long.Dir, report.HTMLFile)); err != nil || !bytes.Contains(page, []byte("<td>1, then 2</td>")) {
		t.Errorf("the long run's report does not say it trained on 1, then 2 threads (%v)", err)
	}
	alone := filepath.Join(t.TempDir(), "alone")
	cfg := long.Config
	cfg.Threads = 1
	if _, err := rundir.Train(rundir.Options{Config: cfg, Dir: alone, Source: src}); err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(filepath.Join(long.Dir, saving.WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(alone, saving.WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("the long run's model differs from the same run trained alone on one thread")
	}
}
