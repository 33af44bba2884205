package experiment

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/internal/memlimit"
	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/rundir"
	"github.com/cifarnet/cifarnet/saving"
	"github.com/cifarnet/cifarnet/tensor"
	"github.com/cifarnet/cifarnet/train"
)

// Options is how to execute an experiment's runs.
type Options struct {
	// Parallel is the number of runs trained at once (0: DefaultParallel);
	// the CPUs are divided among them.
	Parallel int
	// Threads per run (0: the CPUs divided by Parallel).
	Threads int
	// Find locates a data set (perhaps downloading it); Source, when set,
	// is used instead.
	Find   func(dataset.Info) (string, error)
	Source string
	// Progress receives a line per finished run and, on a terminal
	// (Terminal), a live bar of runs done with the ETA.
	Progress io.Writer
	Terminal bool
	// Interrupt is polled after every training step of every run; once it
	// returns true the running runs save their checkpoints and Execute
	// returns an *Interrupted.
	Interrupt func() bool
	// Backup is when each run saves its checkpoint as it trains (nil:
	// never; "cifarnet experiment" uses DefaultBackup), so that a process
	// killed without warning (SIGKILL, the out-of-memory killer, a node
	// that fails) loses at most that much of each run it was training.
	Backup *train.BackupFreq
	// Dir, if set, is the experiment directory, whose spec.json records
	// the SHA-256 of the data the runs train on the first time and
	// refuses other data later.
	Dir string
	// Warn, if set, receives a one-line warning about data loaded (files
	// that are not the official ones), once per data set.
	Warn func(string)
}

// DefaultBackup is how often "cifarnet experiment" backs its runs up:
// at the epoch ends that keep the backups under 2% of the training time:
// at every epoch end they would take a third of the experiment's whole
// allowance for overhead (BENCHMARKS.md).
var DefaultBackup = train.BackupFreq{Auto: true}

// DefaultParallel is the number of runs trained at once by default:
// measured on 2 cores (BENCHMARKS.md), one run per core beats two threads
// per run, whose synchronisation costs more than it gains on these small
// matrices.
func DefaultParallel() int { return runtime.GOMAXPROCS(0) }

// Interrupted is Execute's error when Options.Interrupt stopped it.
type Interrupted struct{ Done, Left int }

func (e *Interrupted) Error() string {
	return fmt.Sprintf("interrupted with %s finished and %d to go; the running ones saved checkpoints", report.Count(e.Done, "run"), e.Left)
}

// Status says whether a run has finished, was interrupted (a checkpoint)
// or has not started. A run has finished once its last file, report.html,
// is written: a process killed while writing the files leaves a run that
// is continued or trained again, never one counted with files missing.
func Status(r Run) string {
	done := true
	for _, f := range []string{train.MetricsJSON, saving.WeightsFile, report.HTMLFile} {
		if _, err := os.Stat(filepath.Join(r.Dir, f)); err != nil {
			done = false
		}
	}
	if done {
		return "finished"
	}
	if _, err := os.Stat(filepath.Join(r.Dir, train.CheckpointFile)); err == nil {
		return "interrupted"
	}
	return "not started"
}

// Execute trains every run of runs that has not finished (continuing the
// interrupted ones from their checkpoints), Parallel at a time, on data
// loaded once per data set and shared read-only.
func Execute(runs []Run, o Options) error {
	var todo []Run
	for _, r := range runs {
		if Status(r) != "finished" {
			todo = append(todo, r)
		}
	}
	p := newProgress(o.Progress, o.Terminal, len(runs), len(runs)-len(todo))
	if len(todo) == 0 {
		p.finish()
		return nil
	}
	data, err := loadAll(todo, o)
	if err != nil {
		return err
	}
	if o.Dir != "" {
		if err := recordData(o.Dir, data, runs, todo); err != nil {
			return err
		}
	}
	parallel := o.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel()
	}
	parallel = min(parallel, len(todo))
	if parallel, err = fitParallel(todo, parallel, o.Parallel > 0, memlimit.Available()); err != nil {
		return err
	}
	threads := o.Threads
	cpus := &cpuShare{}
	if threads <= 0 {
		threads = max(1, runtime.GOMAXPROCS(0)/parallel)
		// Threads chosen here, not by the user: once no run is left to
		// start, the CPUs of the finished runs go to the running ones.
		cpus.total = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan Run)
	var (
		mu       sync.Mutex
		firstErr error
		stopped  bool
		busy     int
	)
	interrupt := func() bool {
		mu.Lock()
		s := stopped
		mu.Unlock()
		return s || (o.Interrupt != nil && o.Interrupt())
	}
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				if interrupt() {
					cpus.skip()
					continue // left for the next time
				}
				cfg := r.Config
				cfg.Threads = threads
				d := data[dataKey(cfg)]
				opts := rundir.Options{Config: cfg, Dir: r.Dir, Overwrite: true, Source: d.source, Data: d.data,
					DataSHA256: d.checksum(cfg), Interrupt: interrupt, Backup: o.Backup,
					// A second experiment on this directory may have
					// finished the run since the list was made.
					Done: func(string) bool { return Status(r) == "finished" }}
				if Status(r) == "interrupted" {
					opts.Resume, opts.Planned = true, &r.Config
				}
				opts.ThreadTarget = cpus.start(threads)
				start := time.Now()
				res, err := rundir.Train(opts)
				cpus.end(opts.ThreadTarget)
				var intr *rundir.Interrupted
				switch {
				case errors.As(err, &intr):
					p.interrupted(r)
				case errors.Is(err, rundir.ErrFinished):
					// Another process finished it since the list of runs
					// to train was made: nothing left to do.
					p.elsewhere(r)
				case errors.Is(err, rundir.ErrBusy):
					// Another process (a second experiment on this
					// directory) is training it: left to that process.
					mu.Lock()
					busy++
					mu.Unlock()
					p.busy(r)
				case err != nil:
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("run %s seed %d (%s): %w", r.Label, r.Seed, r.Dir, err)
					}
					stopped = true
					mu.Unlock()
				default:
					p.done(r, res, time.Since(start))
				}
			}
		}()
	}
	for _, r := range todo {
		if interrupt() {
			break
		}
		cpus.handOut()
		jobs <- r
	}
	close(jobs)
	cpus.allSent()
	wg.Wait()
	p.finish()
	if firstErr != nil {
		return firstErr
	}
	left := 0
	for _, r := range runs {
		if Status(r) != "finished" {
			left++
		}
	}
	if left > 0 && busy > 0 && (o.Interrupt == nil || !o.Interrupt()) {
		// The runs left are those the other process is still training
		// (it may have finished some of those it had when met).
		return &Busy{Done: len(runs) - left, Busy: left}
	}
	if left > 0 {
		return &Interrupted{Done: len(runs) - left, Left: left}
	}
	return nil
}

// cpuShare hands the CPUs of an experiment's finished runs to its running
// ones once no run is left to start: without it the last runs would train
// on one thread each while the other CPUs idle. A run's threads change
// between its training steps (train.Control.ThreadTarget), never its results.
//
// A run is handed out (handOut, before it is sent to a worker) and then
// either started (start) or skipped (skip). The CPUs move only once every
// run handed out is registered: a run received by a worker but not yet
// started would otherwise start on its threads after the others had
// taken all the CPUs.
type cpuShare struct {
	total   int // the CPUs the runs share; 0: threads fixed by the user
	mu      sync.Mutex
	sent    bool // no run is left to hand out (allSent)
	waiting int  // runs handed out, neither started nor skipped
	running []*tensor.ThreadTarget
}

// handOut counts a run about to be sent to a worker, which will start or
// skip it.
func (c *cpuShare) handOut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waiting++
}

// start registers a run handed out that starts on threads threads.
func (c *cpuShare) start(threads int) *tensor.ThreadTarget {
	t := &tensor.ThreadTarget{}
	t.Set(threads)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waiting--
	c.running = append(c.running, t)
	c.spread()
	return t
}

// skip counts off a run handed out that is not started (interrupted).
func (c *cpuShare) skip() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waiting--
	c.spread()
}

// end unregisters a run that has returned.
func (c *cpuShare) end(t *tensor.ThreadTarget) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running = slices.DeleteFunc(c.running, func(u *tensor.ThreadTarget) bool { return u == t })
	c.spread()
}

// allSent says that no run is left to hand out; those handed out
// may still be on their way to start.
func (c *cpuShare) allSent() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = true
	c.spread()
}

// spread divides the CPUs among the running runs, the first ones taking
// the remainder, once every run is registered (none left to hand out or
// to start); a run never loses threads.
func (c *cpuShare) spread() {
	if c.total == 0 || !c.sent || c.waiting > 0 || len(c.running) == 0 {
		return
	}
	k := len(c.running)
	for i, t := range c.running {
		n := c.total / k
		if i < c.total%k {
			n++
		}
		if n > t.Get() {
			t.Set(n)
		}
	}
}

// Busy is Execute's error when runs were left to another process that was
// training them (a second experiment on the same directory): every other
// run is finished.
type Busy struct{ Done, Busy int }

func (e *Busy) Error() string {
	return fmt.Sprintf("%s finished; %s being trained by another cifarnet process, left to it", report.Count(e.Done, "run"), report.Count(e.Busy, "run"))
}

// loaded is one data set loaded for the runs.
type loaded struct {
	source string
	data   *dataset.Data
	mu     sync.Mutex
	sums   map[[2]int]string
}

// checksum is rundir.DataChecksum, computed once per sample counts.
func (l *loaded) checksum(cfg train.Config) string { return l.sum(cfg.TrainSamples, cfg.TestSamples) }

// sum is the checksum of the first nTrain training and nTest test images.
func (l *loaded) sum(nTrain, nTest int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := [2]int{nTrain, nTest}
	if s, ok := l.sums[k]; ok {
		return s
	}
	s := rundir.DataChecksum(l.data, train.Config{TrainSamples: nTrain, TestSamples: nTest})
	l.sums[k] = s
	return s
}

func dataKey(cfg train.Config) string { return cfg.Dataset + "/" + cfg.LabelMode }

// loadAll loads each data set the runs use once, with as many samples as
// the most demanding run uses.
func loadAll(runs []Run, o Options) (map[string]*loaded, error) {
	need := map[string]train.Config{}
	for _, r := range runs {
		k := dataKey(r.Config)
		c, ok := need[k]
		if !ok {
			c = r.Config
		}
		c.TrainSamples = max(c.TrainSamples, r.Config.TrainSamples)
		c.TestSamples = max(c.TestSamples, r.Config.TestSamples)
		need[k] = c
	}
	out := map[string]*loaded{}
	for k, cfg := range need {
		info, err := cfg.Info()
		if err != nil {
			return nil, err
		}
		src := o.Source
		if src == "" && o.Find != nil {
			if src, err = o.Find(info); err != nil {
				return nil, err
			}
		}
		d, err := rundir.LoadData(info, src, cfg)
		if err != nil {
			return nil, err
		}
		if w := d.NotOfficialWarning(); w != "" && o.Warn != nil {
			o.Warn(w)
		}
		out[k] = &loaded{source: src, data: d, sums: map[[2]int]string{}}
	}
	return out, nil
}

// progress prints the experiment's progress: a line per finished run and,
// on a terminal, a bar of runs done of the total with the ETA.
type progress struct {
	w        io.Writer
	terminal bool
	total    int
	mu       sync.Mutex
	finished int
	start    time.Time
	trained  int
}

func newProgress(w io.Writer, terminal bool, total, finished int) *progress {
	p := &progress{w: w, terminal: terminal, total: total, finished: finished, start: time.Now()}
	if w != nil && finished > 0 {
		fmt.Fprintf(w, "%d of %s already finished\n", finished, report.Count(total, "run"))
	}
	p.bar()
	return p
}

func (p *progress) eta() string {
	if p.trained == 0 {
		return "ETA --"
	}
	per := time.Since(p.start) / time.Duration(p.trained)
	return "ETA " + (per * time.Duration(p.total-p.finished)).Round(time.Second).String()
}

func (p *progress) bar() {
	if p.w == nil || !p.terminal {
		return
	}
	const width = 30
	full := width * p.finished / max(p.total, 1)
	fmt.Fprintf(p.w, "\r\x1b[K[%s%s] %d/%s  %s", strings.Repeat("=", full), strings.Repeat(" ", width-full), p.finished, report.Count(p.total, "run"), p.eta())
}

func (p *progress) done(r Run, res *rundir.Result, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished++
	p.trained++
	if p.w == nil {
		return
	}
	if p.terminal {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	m := res.Metrics
	from := ""
	if res.ResumedEpoch > 0 {
		from = fmt.Sprintf(" (continued from epoch %d, step %d)", res.ResumedEpoch, res.ResumedStep)
	}
	epochs := "epochs"
	if m.EpochsRun == 1 {
		epochs = "epoch"
	}
	// A diverged run's accuracy is that of NaN weights (whichever class
	// argmax picks), not a result: say what runs.csv and the statistics
	// say of it.
	result := fmt.Sprintf("test accuracy %.4f", m.TestAccuracy)
	if why, ok := report.Diverged(m); ok {
		result = "diverged (" + why + ")"
	}
	fmt.Fprintf(p.w, "[%d/%d] %s seed %d: %s, %d %s, %.1fs%s  %s  (%s)\n",
		p.finished, p.total, r.Label, r.Seed, result, m.EpochsRun, epochs, took.Seconds(), from, r.Dir, p.eta())
	p.bar()
}

func (p *progress) interrupted(r Run) {
	p.line("%s seed %d: interrupted, checkpoint saved in %s\n", r.Label, r.Seed, r.Dir)
}

// elsewhere counts a run another process finished since the list was made.
func (p *progress) elsewhere(r Run) {
	p.mu.Lock()
	p.finished++
	p.mu.Unlock()
	p.line("%s seed %d: finished meanwhile by another cifarnet process (%s)\n", r.Label, r.Seed, r.Dir)
}

func (p *progress) busy(r Run) {
	p.line("%s seed %d: being trained by another cifarnet process, left to it (%s)\n", r.Label, r.Seed, r.Dir)
}

// line prints a line about a run that did not finish here, above the bar.
func (p *progress) line(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w == nil {
		return
	}
	if p.terminal {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, format, args...)
}

func (p *progress) finish() {
	if p.w != nil && p.terminal {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// ParallelMemory is the error of a --parallel whose runs, trained at once,
// need more memory than there is.
type ParallelMemory struct {
	Parallel   int
	Need, Have float64 // bytes
}

func (e *ParallelMemory) Error() string {
	return fmt.Sprintf("%d runs at once need about %s of memory (the largest runs' weights and activations), more than the %s available: lower it",
		e.Parallel, memlimit.Words(e.Need), memlimit.Words(e.Have))
}

// fitParallel checks that parallel runs of todo fit in available bytes
// together, counting the largest ones' weights and activations (the data
// is loaded once and shared, and is already taken). Each run checks only
// its own estimate when it starts, so N runs started together could need
// N times what one did. An explicit count that does not fit is refused;
// the default (one per CPU) is lowered to what fits. A single run too
// large is left to that run's own check, which names its setting.
func fitParallel(todo []Run, parallel int, explicit bool, available int64) (int, error) {
	need := make([]float64, len(todo))
	for i, r := range todo {
		m := train.EstimateMemory(r.Config)
		need[i] = m.Weights + m.Activations
	}
	slices.SortFunc(need, func(a, b float64) int { return cmp.Compare(b, a) })
	var sum float64
	for k := 0; k < parallel; k++ {
		sum += need[k]
		if sum > float64(available) {
			if k == 0 {
				return 1, nil // the run's own check names its setting
			}
			if explicit {
				return 0, &ParallelMemory{Parallel: parallel, Need: sumLargest(need, parallel), Have: float64(available)}
			}
			return k, nil
		}
	}
	return parallel, nil
}

func sumLargest(need []float64, n int) float64 {
	var s float64
	for _, v := range need[:n] {
		s += v
	}
	return s
}
