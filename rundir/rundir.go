// Package rundir makes one run: the training of one configuration on its
// data, from its seed or from a checkpoint, into a run directory that ends
// up holding history.json, history.csv, metrics.json, model.safetensors,
// model.json, the figures and report.html. "cifarnet train" and "cifarnet
// experiment" both make their runs with Train; "cifarnet bench" loads its data
// with LoadData.
//
// A run interrupted (Options.Interrupt) leaves a checkpoint and the partial
// history in its directory and returns an *Interrupted; Train with Resume set
// continues it, bit-identical to a run never interrupted.
package rundir

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/datasets"
	"github.com/cifarnet/cifarnet/internal/finitejson"
	"github.com/cifarnet/cifarnet/internal/lockfile"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/saving"
	"github.com/cifarnet/cifarnet/tensor"
	"github.com/cifarnet/cifarnet/train"
)

// Options is one run to make.
type Options struct {
	// Config is the configuration to train (ignored when resuming, but
	// for Threads, which only changes speed).
	Config train.Config
	// Dir is the run directory; "" makes a new runs/<timestamp> one.
	Dir string
	// Overwrite allows Dir to hold a run already; it is replaced.
	Overwrite bool
	// Done, if set, is asked once Dir's lock is held whether Dir holds a
	// run that needs no training (another process may have finished it
	// since the caller looked); Train then returns ErrFinished.
	Done func(dir string) bool
	// Resume continues the checkpoint in Dir.
	Resume bool
	// Planned, when resuming, is the configuration the checkpoint must be
	// of (threads aside): an experiment's run directory is named by its
	// configuration's hash, and a checkpoint of another one found there
	// is refused, never continued as this run.
	Planned *train.Config
	// InitWeights, if set, is a .safetensors file of starting weights
	// (instead of the initializers).
	InitWeights string
	// Source is where the data is (a directory or an archive of the data
	// set the Config names); it is recorded in metrics.json.
	Source string
	// DataGiven says the caller names the data: a resume reads it from
	// Source or Find rather than from where the checkpoint says it was.
	DataGiven bool
	// Find, when Source is "", finds the data set (perhaps downloading it)
	// once the configuration is known valid.
	Find func(dataset.Info) (string, error)
	// Data is the data already loaded from Source, shared read-only by
	// concurrent runs; nil loads it. It may hold more samples than the
	// run uses (the first ones are used).
	Data *dataset.Data
	// DataSHA256, if set, is the checksum of the samples the run uses
	// (DataChecksum), to spare computing it again for every run.
	DataSHA256 string
	// Starting, if set, is called with the run's configuration once the
	// configuration, the data, the run directory and the initial weights
	// are known good, just before training (to print the model's
	// summary); its error ends the run.
	Starting func(train.Config) error
	// Continuing, if set, is called when the run continues a checkpoint
	// (Resume, or a replacing run run again), with where it continues:
	// epoch and step 1-based, of steps steps an epoch; just after
	// Starting, before any training.
	Continuing func(epoch, step, steps int)
	// Loading, if set, is called before the data is read and the function
	// it returns after (a "Loading..." line on a terminal).
	Loading func(info dataset.Info, source string) (done func())
	// Warn, if set, receives a one-line warning about the data Train
	// loads (files that are not the official ones).
	Warn func(string)
	// Progress receives Keras-style progress (nil: silence).
	Progress *train.Progress
	// Interrupt is polled after every training step; once it returns true
	// the run saves a checkpoint and Train returns an *Interrupted.
	Interrupt func() bool
	// Backup, if set, saves the run's checkpoint as it trains (Keras's
	// BackupAndRestore), so that a process killed without warning loses
	// only what it trained since: Train with Resume continues from it.
	Backup *train.BackupFreq
	// ThreadTarget, if set, changes the number of threads the run trains on
	// once set (train.Control.ThreadTarget).
	ThreadTarget *tensor.ThreadTarget
}

// Result is a finished run.
type Result struct {
	Dir     string
	Outcome *train.Outcome
	Metrics train.Metrics
	// Reading is what the run's report says of it, in sentences.
	Reading report.Reading
	// ResumedEpoch and ResumedStep (1-based) are where a resumed run
	// continued from its checkpoint; 0 for a run trained from its start.
	ResumedEpoch, ResumedStep int
}

// Interrupted is Train's error when Options.Interrupt stopped the run: the
// checkpoint and the partial history are saved in Dir.
type Interrupted struct {
	Dir string
	// Staging, for a run replacing another (overwrite), is where its
	// checkpoint and history are: the old run stays in Dir until the run,
	// continued (the same command again, or --resume Dir), completes.
	Staging     string
	Epoch, Step int // 1-based: where the run will continue
	// Steps is the number of steps of an epoch.
	Steps int
	// NotStarted is set when the run stopped before its first step: no
	// checkpoint is saved, and the run starts afresh.
	NotStarted bool
}

func (i *Interrupted) Error() string {
	if i.NotStarted {
		return fmt.Sprintf("interrupted before the first step: nothing saved in %s", i.Dir)
	}
	at := train.StoppedAt(i.Epoch-1, i.Step-1, i.Steps)
	if i.Staging != "" {
		return fmt.Sprintf("interrupted %s: checkpoint and history saved in %s; %s keeps the old run until this one completes",
			at, i.Staging, i.Dir)
	}
	return fmt.Sprintf("interrupted %s: checkpoint and history saved in %s", at, i.Dir)
}

// sameConfig tells whether a checkpoint's configuration is cfg's, the
// threads aside (they never change a result).
func sameConfig(a, b train.Config) bool {
	a.Threads, b.Threads = 0, 0
	ja, err1 := finitejson.Marshal(a)
	jb, err2 := finitejson.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// DirError is a run directory that cannot be used.
type DirError struct {
	Dir string
	Err error
}

func (e *DirError) Error() string { return fmt.Sprintf("run directory %s: %v", e.Dir, e.Err) }
func (e *DirError) Unwrap() error { return e.Err }

// ErrExists is the DirError's Err when the directory already holds a run
// and overwriting was not asked for.
var ErrExists = errors.New("already holds a run")

// Train makes the run o describes. Invalid settings are *train.FieldErrors
// (also the sample counts when the data has fewer); a Dir that cannot be
// used is a *DirError.
func Train(o Options) (*Result, error) {
	o.Dir = resolveLink(o.Dir) // one path for the run, its lock and its staging
	cfg := o.Config
	var ck *train.Checkpoint
	// staged: the run continues from the checkpoint a replacing run
	// (--overwrite) left in the staging directory beside o.Dir, the old
	// run staying in o.Dir until this one completes.
	staged := false
	// held: the run directory's lock, taken before its checkpoint is read
	// when resuming, so that a directory another process is training says
	// so, and no other process starts on it meanwhile.
	var held *lockfile.Lock
	if o.Resume {
		var err error
		if held, err = lockToResume(o.Dir); err != nil {
			return nil, err
		}
		defer held.Unlock()
		if o.Dir != "" && !hasCheckpoint(o.Dir) && hasCheckpoint(Staging(o.Dir)) {
			staged = true
			ck, err = train.LoadCheckpoint(Staging(o.Dir))
		} else if o.Dir != "" && !hasCheckpoint(o.Dir) && finished(o.Dir) {
			return nil, &DirError{o.Dir, ErrFinished}
		} else {
			ck, err = train.LoadCheckpoint(o.Dir)
		}
		if err != nil {
			return nil, err
		}
		if o.Planned != nil {
			want := *o.Planned
			if info, err := want.Info(); err == nil {
				want.LabelMode = info.LabelMode // as a checkpoint records it
			}
			if !sameConfig(ck.Config, want) {
				return nil, fmt.Errorf("resume %s: the checkpoint is of another configuration than this run's (the directory was copied, or its files replaced): move it away to train the run afresh", o.Dir)
			}
		}
		threads := cfg.Threads
		cfg = ck.Config
		cfg.Threads = threads // speed only, never a result
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ck != nil && !o.DataGiven && o.Source == "" && ck.DataSource != "" && exists(ck.DataSource) {
		// Where the run read its data (its checksum is still verified).
		o.Source = ck.DataSource
	}
	info, _ := cfg.Info() // Validate checked it
	cfg.LabelMode = info.LabelMode
	// The starting weights are part of what the run is: a checkpoint
	// records their file's SHA-256 (the content, not the name), and is
	// continued only from the same ones. A file that cannot be read
	// continues nothing; initialModel says what is wrong with it.
	initSum, initErr := "", error(nil)
	switch {
	case ck != nil:
		initSum = ck.InitWeightsSHA256
	case o.InitWeights != "":
		initSum, initErr = dataset.FileSHA256(o.InitWeights)
	}
	// Run again, a replacing run (--overwrite) continues the checkpoint of
	// the same configuration and starting weights that its interrupted or
	// killed self left beside the directory (or in it, when there was no
	// old run to keep), as Keras's BackupAndRestore continues when fit is
	// called again; the data is checked below.
	continued := false
	if !o.Resume && o.Overwrite && o.Dir != "" && initErr == nil {
		for _, where := range []string{Staging(o.Dir), o.Dir} {
			if !hasCheckpoint(where) {
				continue
			}
			if c, err := train.LoadCheckpoint(where); err == nil && sameConfig(c.Config, cfg) && c.InitWeightsSHA256 == initSum {
				ck, staged, continued = c, where != o.Dir, true
				cfg.Threads = o.Config.Threads
				break
			}
		}
	}
	// The starting weights are read before the data is looked for (perhaps
	// downloaded): a wrong --init-weights fails at once.
	var model *nn.Sequential
	if ck == nil {
		var err error
		if model, err = initialModel(cfg, o.InitWeights); err != nil {
			return nil, err
		}
	}
	if o.Source == "" && o.Find != nil {
		var err error
		if o.Source, err = o.Find(info); err != nil {
			return nil, err
		}
	}
	if o.Dir != "" && o.Source != "" && Holds(o.Dir, o.Source) {
		return nil, &DirError{o.Dir, fmt.Errorf("%w (%s)", ErrHoldsData, o.Source)}
	}
	data := o.Data
	if data == nil {
		var done func()
		if o.Loading != nil {
			done = o.Loading(info, o.Source)
		}
		var err error
		data, err = LoadData(info, o.Source, cfg)
		if done != nil {
			done()
		}
		if err != nil {
			return nil, err
		}
		if w := data.NotOfficialWarning(); w != "" && o.Warn != nil {
			o.Warn(w)
		}
	} else if data.Name != info.Name || data.Train.Len() < cfg.TrainSamples || data.Test.Len() < cfg.TestSamples {
		return nil, fmt.Errorf("run: the data holds %d training and %d test images of %s, the run wants %d and %d of %s",
			data.Train.Len(), data.Test.Len(), data.Name, cfg.TrainSamples, cfg.TestSamples, info.Name)
	}
	dataSum := o.DataSHA256
	if dataSum == "" {
		dataSum = DataChecksum(data, cfg)
	}
	if continued && ck.DataSHA256 != dataSum {
		// Another data set under the same settings: not the run that was
		// interrupted; this one starts afresh.
		ck, staged, continued = nil, false, false
		var err error
		if model, err = initialModel(cfg, o.InitWeights); err != nil {
			return nil, err
		}
	}
	// The run directory is taken once the data is known good, before any
	// training: an unwritable or busy one fails now, not after the run. It
	// belongs to this process until the run's files are written.
	var rd *Dir
	if err := checkDisk(o.Dir, cfg, o.Backup != nil); err != nil {
		return nil, err
	}
	var err error
	if staged {
		rd, err = open(o.Dir, true, false, true, held)
	} else {
		rd, err = open(o.Dir, o.Overwrite && !continued, o.Resume || continued, false, held)
	}
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	if o.Done != nil && o.Done(o.Dir) {
		return nil, &DirError{o.Dir, ErrFinished}
	}
	dir := rd.Write
	if ck != nil && ck.DataSHA256 != dataSum {
		return nil, fmt.Errorf("resume %s: the data at %s is not the data the run trained on (checksum differs)", dir, o.Source)
	}
	// save writes a checkpoint of this run into its directory.
	save := func(c *train.Checkpoint) error {
		c.DataSHA256, c.InitWeightsSHA256 = dataSum, initSum
		if abs, err := filepath.Abs(o.Source); err == nil && o.Source != "" {
			c.DataSource = abs
		}
		return c.Save(dir)
	}
	ctl := train.Control{Progress: o.Progress, Interrupt: o.Interrupt, ThreadTarget: o.ThreadTarget}
	if o.Backup != nil {
		ctl.Backup = &train.Backup{Freq: *o.Backup, Save: save}
	}
	// Everything that can be wrong with the data, the directory or the
	// weights is known by now: only a run that will train prints its
	// summary.
	if o.Starting != nil {
		if err := o.Starting(cfg); err != nil {
			return nil, err
		}
	}
	if ck != nil && o.Continuing != nil {
		o.Continuing(ck.Epoch+1, ck.Step+1, cfg.StepsPerEpoch())
	}
	start := time.Now()
	var out *train.Outcome
	if ck != nil {
		ck.Config.Threads = cfg.Threads // speed only, never a result
		out, err = train.ResumeWith(ck, data, ctl)
	} else {
		out, err = train.FitAndEvaluateWith(cfg, data, model, ctl)
	}
	var intr *train.Interrupted
	if errors.As(err, &intr) && ck == nil && intr.Checkpoint.Epoch == 0 && intr.Checkpoint.Step == 0 {
		// Stopped before its first step: nothing to keep; the run starts
		// afresh next time.
		return nil, &Interrupted{Dir: dir, Epoch: 1, Step: 1, NotStarted: true}
	}
	if errors.As(err, &intr) {
		if err := save(intr.Checkpoint); err != nil {
			return nil, err
		}
		if err := train.WriteHistory(dir, out.History); err != nil {
			return nil, err
		}
		if rd.Write != rd.Path {
			// A replacing run: the old run stays until this one
			// completes; the checkpoint waits beside it (Close keeps it).
			return nil, &Interrupted{Dir: rd.Path, Staging: rd.Write, Epoch: intr.Checkpoint.Epoch + 1, Step: intr.Checkpoint.Step + 1, Steps: intr.Steps}
		}
		if err := rd.Commit(); err != nil {
			return nil, err
		}
		return nil, &Interrupted{Dir: rd.Path, Epoch: intr.Checkpoint.Epoch + 1, Step: intr.Checkpoint.Step + 1, Steps: intr.Steps}
	}
	if err != nil {
		return nil, err
	}
	// The model first: it is what the run was for, and a file written
	// after it that fails (a full disk) must not lose it.
	if err := saving.Save(dir, out.Model, describe(out, data)); err != nil {
		return nil, err
	}
	m := train.MetricsOf(out, data.Test.Slice(0, cfg.TestSamples).Int32Labels(), environment(out, o.Source, data, dataSum, start))
	if err := train.WriteRun(dir, out.History, m); err != nil {
		return nil, modelKept(rd, err)
	}
	threads := out.ThreadsAtEnd
	if o.ThreadTarget != nil && o.ThreadTarget.Get() > 0 {
		threads = o.ThreadTarget.Get() // the CPUs the run holds now
	}
	reading, err := writeReport(dir, data.Classes, data.Test.Slice(0, cfg.TestSamples), threads)
	if err != nil {
		return nil, modelKept(rd, err)
	}
	train.RemoveCheckpoint(dir)
	if err := rd.Commit(); err != nil {
		return nil, err
	}
	res := &Result{Dir: rd.Path, Outcome: out, Metrics: m, Reading: reading}
	if ck != nil {
		res.ResumedEpoch, res.ResumedStep = ck.Epoch+1, ck.Step+1
	}
	return res, nil
}

// modelKept says, with err, where the trained model stays when a file
// written after it failed: in the run directory, or nowhere when the run
// was replacing another (the old run stays whole instead).
func modelKept(rd *Dir, err error) error {
	if rd.Write != rd.Path {
		return fmt.Errorf("%w (the run was not saved; %s still holds the old run)", err, rd.Path)
	}
	return fmt.Errorf("%w (the trained model is saved in %s)", err, rd.Path)
}

// LoadData reads the samples cfg trains and tests on from source, which
// holds the data set info describes. Fewer samples there than cfg asks
// for is a *train.FieldError on train_samples or test_samples; data that
// has none of a kind (a batch file missing or empty) is broken, not the
// setting, and its error passes through.
func LoadData(info dataset.Info, source string, cfg train.Config) (*dataset.Data, error) {
	data, err := datasets.Load(info, source, cfg.TrainSamples, cfg.TestSamples)
	var short *dataset.ShortError
	if errors.As(err, &short) && short.Available > 0 {
		f := &train.FieldError{Field: "train_samples", Value: cfg.TrainSamples, Want: "training"}
		if short.Test {
			f.Field, f.Value, f.Want = "test_samples", cfg.TestSamples, "test"
		}
		f.Want = fmt.Sprintf("the data at %s has only %d %s images (%s)", source, short.Available, f.Want, shortFiles(short))
		return nil, f
	}
	return data, err
}

// shortFiles says which files held too few samples: those missing, which
// the path of the first alone would not say, or the short one.
func shortFiles(short *dataset.ShortError) string {
	switch n := len(short.Missing); n {
	case 0:
		return short.File
	case 1:
		return short.Missing[0] + " is missing"
	default:
		return strings.Join(short.Missing[:n-1], ", ") + " and " + short.Missing[n-1] + " are missing"
	}
}

// DataChecksum identifies the samples a run of cfg uses: the first
// cfg.TrainSamples and cfg.TestSamples of data.
func DataChecksum(data *dataset.Data, cfg train.Config) string {
	return (&dataset.Data{Train: data.Train.Slice(0, cfg.TrainSamples), Test: data.Test.Slice(0, cfg.TestSamples)}).Checksum()
}

// writeReport draws the figures and report.html of a run from the files
// just written, so that "cifarnet report" regenerates exactly the same, and
// returns the run's reading, as the report states it. The figures are
// drawn on the run's threads, so that a run of an experiment keeps to its
// share of the CPUs.
func writeReport(dir string, classes []string, test *dataset.Set, threads int) (report.Reading, error) {
	h, m, err := train.ReadRun(dir)
	if err != nil {
		return nil, err
	}
	r := report.Input{Dir: dir, History: h, Metrics: m, Classes: classes, Test: test, Threads: threads}
	if _, err := report.Write(r); err != nil {
		return nil, err
	}
	return report.ReadingOf(r), nil
}

// initialModel builds the model to train: from the initializers and the
// seed, or from a weights file.
func initialModel(cfg train.Config, weights string) (*nn.Sequential, error) {
	m, err := cfg.NewModel()
	if err != nil {
		return nil, err
	}
	if weights == "" {
		m.Initialize(cfg.Seed)
		return m, nil
	}
	if err := saving.LoadWeights(weights, m); err != nil {
		return nil, fmt.Errorf("initial weights: %w", err)
	}
	// Training from a NaN or an infinity would only stop at its first
	// loss: say which tensor holds it instead.
	for _, v := range m.Variables() {
		for i, x := range v.Value {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, &train.FieldError{Field: "init_weights", Value: weights, Want: fmt.Sprintf("%s[%d] is %v: want finite starting weights", v.Name, i, x)}
			}
		}
	}
	return m, nil
}

// describe is the model.json of a finished run on data.
func describe(out *train.Outcome, data *dataset.Data) saving.Config {
	mc, _ := out.Config.ModelConfig() // valid: the run was built from it
	c := saving.DescribeModel(mc, data.Dims(), data.Classes, map[string]string{
		"seed":          fmt.Sprint(out.Config.Seed),
		"test_accuracy": fmt.Sprintf("%.4f", out.Test.Accuracy),
		"best_epoch":    fmt.Sprint(out.BestEpoch()),
	})
	c.Dataset, c.LabelMode, c.DataNotOfficial = data.Name, data.LabelMode, baseNames(data.NotOfficial)
	// The optimizer too, as Keras's to_json writes it, so that the file
	// trains the same way again (valid: the run was built from it).
	if opt, err := out.Config.KerasOptimizer(); err == nil {
		c.Compile.Optimizer = opt
		c.LRSchedule, _ = out.Config.ScheduleBeyondKeras()
	}
	return c
}

// baseNames returns the base names of paths (nil for none).
func baseNames(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, filepath.Base(p))
	}
	return out
}

func environment(out *train.Outcome, src string, data *dataset.Data, dataSum string, start time.Time) train.Env {
	threads := out.Config.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		abs = src
	}
	raised := 0
	if out.ThreadsAtEnd > threads {
		raised = out.ThreadsAtEnd
	}
	return train.Env{
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPU: CPUModel(),
		Threads: threads, ThreadsRaisedTo: raised, Kernel: out.Kernel, Data: abs, DataSHA256: dataSum, DataNotOfficial: baseNames(data.NotOfficial),
		Start: start.UTC().Format(time.RFC3339),
	}
}

// CPUModel returns the processor's name where the OS tells it.
func CPUModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
