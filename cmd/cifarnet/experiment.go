package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/experiment"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/suggest"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/rundir"
	"github.com/cifarnet/cifarnet/stats"
	"github.com/cifarnet/cifarnet/train"
)

// experimentFlags are the flags of "cifarnet experiment" and "experiment slurm".
type experimentFlags struct {
	cfg        train.Config // the base settings, as train's flags
	model      modelFlags
	spec       string
	seeds      string
	grid       []string
	configs    []string
	baseline   string
	named      uint64
	dir        string
	data       dataFlags
	parallel   int
	shard      string
	quiet      bool
	backup     backupFlag
	fs         *pflag.FlagSet
	runThreads int
	// use holds the experiment directory from prepare until the command
	// ends (see experiment.RecordSpec).
	use *experiment.Use
}

func addExperimentFlags(fs *pflag.FlagSet, f *experimentFlags) {
	f.fs = fs
	addConfigFlags(fs, &f.cfg)
	addModelFlags(fs, &f.model)
	fs.StringVar(&f.spec, "spec", "", "read the experiment from this TOML file (seeds, baseline, named_seed, [base] settings, [grid] lists, [[config]] tables; in its keys '_' and '-' are the same: train_samples or train-samples, named_seed or named-seed; see 'cifarnet experiment --help')")
	fs.StringVar(&f.seeds, "seeds", "", "seeds of every configuration: a range, a list or both, e.g. 0-29 or 0-9,42 (default 0-29; given with --spec, replaces the file's seeds, e.g. to extend them)")
	fs.StringArrayVar(&f.grid, "grid", nil, "a varied setting and its values, by train's flag name: activation=elu,relu,selu (repeat for more; every combination runs; ';' separates values that hold commas: hidden=256,256;512)")
	fs.StringArrayVar(&f.configs, "config", nil, "a named configuration: the base with its own settings, \"NAME: SETTING=VALUE; SETTING=VALUE\" (e.g. \"relu: activation=relu; init=he_normal\"; NAME alone is the base as it is); repeat for each; each is crossed with --grid")
	fs.StringVar(&f.baseline, "baseline-config", "", "the configuration the others are compared with, by its label: a --config's name, or the grid's values, e.g. activation=elu (default: the first; given with --spec, replaces the file's)")
	fs.Uint64Var(&f.named, "named-seed", experiment.DefaultNamedSeed, "the seed whose run is placed among its configuration's (the exercise's single run; given with --spec, replaces the file's)")
	fs.StringVar(&f.dir, "dir", "", "experiment directory (default: experiments/<hash of the settings, grid and configurations>, so that the same command continues the same experiment and one with more seeds extends it)")
	addDataFlags(fs, &f.data)
	// The seeds are --seeds (a --seed is refused, naming --seeds), and
	// --threads is per run.
	hide(fs, "seed")
	fs.Lookup("threads").Usage = "worker threads of each run (0: the CPUs divided among the runs trained at once, the last runs taking those freed); results are identical for any value"
}

func newExperimentCmd() *cobra.Command {
	var f experimentFlags
	cmd := &cobra.Command{
		Use:   "experiment [flags]",
		Short: "Run many seeds of one or more configurations and compare them with statistics",
		Long: `Run every configuration of a grid over train's settings, or a list of
named configurations, each with many seeds, and compare them: per
configuration the mean test accuracy with its 95% bootstrap confidence
interval, median, quartiles, min, max; against the
baseline the difference of means, Welch's t-test and the Mann-Whitney U test
(Holm-corrected), Hedges' g and the probability of improvement, each said in
a sentence.

The base configuration is train's flags (--epochs 20, --model FILE.json, ...);
what varies is --seeds and --grid SETTING=V1,V2 (any train flag), or a spec
file (--spec) to keep under version control:

  seeds = "0-29"
  baseline = "activation=elu"
  [base]
  epochs = 50
  train-samples = 5000      # or train_samples: '_' and '-' are the same in keys
  [grid]
  activation = ["elu", "relu", "selu"]

Configurations that are not a grid are listed by name, each the base with
its own settings (replacing the base's), all over the same seeds:

  seeds = "0-29"
  baseline = "elu"          # the default: the first
  [[config]]
  name = "elu"              # the base (the exercise) as it is
  [[config]]
  name = "selu"             # self-normalizing: lecun_normal, standardized inputs
  layers = "normalization, dense(256, selu, lecun_normal), dense(256, selu, lecun_normal), dense(256, selu, lecun_normal), dense(256, selu, lecun_normal)"
  [[config]]
  name = "bn"
  layers = "dense(256, elu, he_normal), batchnorm, dense(256, elu, he_normal), batchnorm"

or --config "relu: activation=relu; init=he_normal" (repeat it). With a
grid as well, each named configuration is crossed with it ("relu lr=0.001").
The names appear in summary.csv, runs.csv (column name) and the report.

Every (configuration, seed) runs once into DIR/runs/<hash of its
configuration and seed>: running the same command again skips the finished
runs and continues interrupted ones from their checkpoints (Ctrl-C and
SIGTERM save them; and each run backs its checkpoint up as it trains, so
that a process killed outright, by SIGKILL, the out-of-memory killer or a
failed node, loses only the last epochs: --backup-and-restore), and a
larger grid or more seeds add only the new runs. The data is
loaded once and shared; runs go in parallel, one per core. The directory
receives experiment.json, runs.csv, summary.csv, the figures and report.html.

--shard I/N runs the I-th of N disjoint slices of the runs (also taken from
SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT in a Slurm job array, or
JOB_COMPLETION_INDEX with CIFARNET_SHARDS=N in a Kubernetes Indexed Job,
see docs/kubernetes.md); then
"cifarnet experiment collect DIR" aggregates. See "experiment slurm".`,
		Example: `  cifarnet experiment --seeds 0-29 --dir experiments/seeds
  cifarnet experiment --seeds 0-29 --grid activation=elu,relu,selu --dir experiments/activation
  cifarnet experiment --seeds 0-29 --config elu --config "selu: layers=normalization, dense(256, selu, lecun_normal), dense(256, selu, lecun_normal), dense(256, selu, lecun_normal), dense(256, selu, lecun_normal)" --dir experiments/selu
  cifarnet experiment --spec activation.toml --dir experiments/activation
  cifarnet experiment report experiments/activation`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return executeExperiment(cmd.OutOrStdout(), &f)
		},
	}
	fs := cmd.Flags()
	addExperimentFlags(fs, &f)
	fs.IntVar(&f.parallel, "parallel", 0, "runs trained at once (default: one per CPU, the CPUs divided among them, and the CPUs of finished runs given to the last ones running; see BENCHMARKS.md)")
	fs.StringVar(&f.shard, "shard", "", "run only slice I of N (I/N, 0 <= I < N); default: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX/CIFARNET_SHARDS when set")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "print only the results: a line per configuration, the comparisons and the report's path (no header, progress or line per run)")
	def := experiment.DefaultBackup
	addBackupFlag(fs, &f.backup, &def, "running the same command again continues from it")
	fs.SortFlags = false
	cmd.AddCommand(newExperimentReportCmd("report", "Redraw an experiment's statistics, figures and report.html from its saved runs"),
		newExperimentReportCmd("collect", "Aggregate what the shards of an experiment wrote (the same as report; names the missing runs)"),
		newExperimentSlurmCmd())
	return cmd
}

// settingsOf returns the train flags given on the command line (all but
// --threads, which never changes a result) as the spec's base settings.
func (f *experimentFlags) settingsOf() []experiment.Setting {
	train := trainSettingFlags()
	var out []experiment.Setting
	f.fs.Visit(func(fl *pflag.Flag) {
		if !train[fl.Name] || fl.Name == "threads" {
			return
		}
		v := fl.Value.String()
		if strings.HasSuffix(fl.Value.Type(), "Slice") {
			v = strings.Trim(v, "[]")
		}
		out = append(out, experiment.Setting{Name: fl.Name, Value: v})
	})
	return out
}

// trainSettingFlags names the flags of train's settings.
func trainSettingFlags() map[string]bool {
	fs := pflag.NewFlagSet("settings", pflag.ContinueOnError)
	var cfg train.Config
	var model modelFlags
	addConfigFlags(fs, &cfg)
	addModelFlags(fs, &model)
	names := map[string]bool{}
	fs.VisitAll(func(fl *pflag.Flag) { names[fl.Name] = true })
	return names
}

// runFlags are train's flags of where and how a run goes rather than of
// what it is, with what an experiment does instead.
var runFlags = map[string]string{
	"threads":            "give the experiment's own --threads (and --parallel)",
	"out":                "the experiment names each run's directory under its --dir",
	"resume":             "the experiment continues its interrupted runs itself",
	"overwrite":          "the experiment never replaces a finished run",
	"quiet":              "give the experiment's own --quiet",
	"backup-and-restore": "give the experiment's own --backup-and-restore",
	"data":               "every run of an experiment reads the experiment's own --data",
	"offline":            "give the experiment's own --offline",
}

// applySettings is experiment.Apply: a fresh set of train's flags, the
// settings given to it in order.
func applySettings(settings []experiment.Setting) (train.Config, error) {
	fs := pflag.NewFlagSet("settings", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg train.Config
	var model modelFlags
	addConfigFlags(fs, &cfg)
	addModelFlags(fs, &model)
	for _, s := range settings {
		fl := fs.Lookup(s.Name)
		switch {
		case runFlags[s.Name] != "":
			// train's flags of where and how a run goes, not of what it is.
			return cfg, usagef("setting %q: not a setting of a run: %s", s.Name, runFlags[s.Name])
		case fl == nil:
			var names []string
			fs.VisitAll(func(fl *pflag.Flag) { names = append(names, fl.Name) })
			if m := suggest.Closest(s.Name, names); m != "" {
				return cfg, usagef("unknown setting %q (did you mean %s?)", s.Name, m)
			}
			return cfg, usagef("unknown setting %q (want a flag of 'cifarnet train', e.g. activation, lr, epochs, hidden)", s.Name)
		}
		if err := fs.Set(s.Name, s.Value); err != nil {
			return cfg, usageError{flagValueError(err)}
		}
	}
	if model.file != "" || model.layers != "" {
		// A Keras model file (or the short form) is the whole network, each
		// layer with its own activation and initializer: the exercise's
		// network settings have nothing to apply to.
		for _, name := range []string{"hidden", "activation", "init"} {
			if fs.Changed(name) {
				return cfg, usagef("%s describes the exercise's network, which the model (--model or --layers) replaces: vary the network itself, e.g. --grid model=a.json,b.json", name)
			}
		}
	}
	// Not ignoredFlags: a base setting can be one the grid makes useful
	// (--ema-momentum with use-ema=true,false), and a recorded spec must
	// stay readable.
	return cfg, model.applyModel(fs, &cfg)
}

// constantScheduleError is schedule arguments, by their flags, given with
// lr-schedule constant, which has none.
type constantScheduleError struct{ flags []string }

func (e *constantScheduleError) Error() string {
	return fmt.Sprintf("schedule arguments (%s) given with lr-schedule constant, which takes none", strings.Join(e.flags, ", "))
}

// optimizerHint rewrites a configuration's error for an optimizer's
// setting that its optimizer does not take, as train's flags do: "config
// x: amsgrad: a setting of adam and adamw, not of adadelta (set
// optimizer=adam or adamw)", where Keras's list of what the optimizer
// takes would name arguments that are no settings (name,
// loss_scale_factor) and not the fix.
func optimizerHint(err error) error {
	var ce *experiment.ConfigError
	var ua *optim.UnknownArgError
	if !errors.As(err, &ce) || !errors.As(ce.Err, &ua) || !slices.Contains(optim.Names(), ua.Owner) {
		return err
	}
	for _, k := range ua.Keys {
		name := strings.ReplaceAll(k, "_", "-")
		if !slices.ContainsFunc(ce.Settings, func(st experiment.Setting) bool { return st.Name == name }) {
			continue // the base's flag: named as train names it (optimizerFlag)
		}
		if takers := optim.TakenBy(k); len(takers) > 0 {
			return fmt.Errorf("%s: %s: a setting of %s, not of %s (set optimizer=%s)", ce.Where, name, series(takers, "and"), ua.Owner, series(takers, "or"))
		}
	}
	return err
}

// scheduleHint adds to the error of a configuration that sets its own
// lr-schedule (a grid's value, a named configuration's) and fails on
// schedule arguments that the base gives where such arguments go: the
// base applies to every configuration, so arguments that only some
// schedules take go with those schedules, in named configurations. (A
// base argument silently left out where the schedule does not take it
// would hide a typo as well: --alpha meant for cosine, given to
// exponential.)
func scheduleHint(err error, s *experiment.Spec) error {
	var ce *experiment.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	schedule := ""
	own := map[string]bool{}
	for _, st := range ce.Settings {
		own[st.Name] = true
		if st.Name == "lr-schedule" {
			schedule = st.Value
		}
	}
	var flags []string
	var cs *constantScheduleError
	var ua *optim.UnknownArgError
	switch {
	case schedule == "":
		return err
	case errors.As(ce.Err, &cs):
		flags = cs.flags
	case errors.As(ce.Err, &ua) && slices.Contains(optim.ScheduleNames(), ua.Owner):
		for _, k := range ua.Keys {
			flags = append(flags, strings.ReplaceAll(k, "_", "-"))
		}
	default:
		return err
	}
	var args []string
	for _, fl := range flags {
		i := slices.IndexFunc(s.Base, func(b experiment.Setting) bool { return b.Name == fl })
		if own[fl] || i < 0 {
			return err // the configuration's own mistake, not the base's
		}
		args = append(args, fl+"="+s.Base[i].Value)
	}
	// Another schedule the experiment compares, to show the arguments
	// going with it: a named configuration's, where the schedules are
	// named configurations' already, else the grid's.
	name, other := "", "cosine"
	for _, a := range s.Grid {
		if a.Name == "lr-schedule" {
			if i := slices.IndexFunc(a.Values, func(v string) bool { return v != schedule && v != "constant" }); i >= 0 {
				other = a.Values[i]
			}
			name = other
		}
	}
	if name == "" { // lr-schedule is a named configuration's setting
		for _, c := range s.Configs {
			if i := slices.IndexFunc(c.Settings, func(st experiment.Setting) bool { return st.Name == "lr-schedule" }); i >= 0 && c.Settings[i].Value != schedule {
				name, other = c.Name, c.Settings[i].Value
				break
			}
		}
		if name == "" {
			name = other
		}
		return &experiment.ConfigError{Where: ce.Where, Settings: ce.Settings, Err: fmt.Errorf(
			"%w: the base gives them to every configuration; give them only in the named configurations whose schedules take them (e.g. --config \"%s: lr-schedule=%s; %s\")",
			ce.Err, name, other, strings.Join(args, "; "))}
	}
	if other == schedule { // no other schedule in the grid to show them with
		return &experiment.ConfigError{Where: ce.Where, Settings: ce.Settings, Err: fmt.Errorf(
			"%w: the base gives them to every configuration; give each schedule its arguments in named configurations instead of the grid (e.g. --config \"%s: lr-schedule=%s\", and %s only to the schedules that take them)",
			ce.Err, schedule, schedule, strings.Join(args, "; "))}
	}
	return &experiment.ConfigError{Where: ce.Where, Settings: ce.Settings, Err: fmt.Errorf(
		"%w: the base gives them to every configuration; give each schedule its arguments in named configurations instead of the grid (e.g. --config \"%s: lr-schedule=%s\" --config \"%s: lr-schedule=%s; %s\")",
		ce.Err, schedule, schedule, other, other, strings.Join(args, "; "))}
}

// specOf builds the experiment's spec from the flags and the spec file.
func (f *experimentFlags) specOf() (*experiment.Spec, error) {
	s := &experiment.Spec{NamedSeed: f.named}
	if f.spec != "" {
		var err error
		if s, err = experiment.ReadSpecFile(f.spec); err != nil {
			return nil, usageError{err}
		}
		if f.fs.Changed("named-seed") {
			s.NamedSeed = f.named
		}
	}
	s.Base = append(s.Base, f.settingsOf()...)
	for _, g := range f.grid {
		a, err := experiment.ParseAxis(g)
		if err != nil {
			return nil, usageError{err}
		}
		s.Grid = append(s.Grid, a)
	}
	for _, c := range f.configs {
		nc, err := experiment.ParseConfig(c)
		if err != nil {
			return nil, usagef("--%v", err)
		}
		s.Configs = append(s.Configs, nc)
	}
	if f.fs.Changed("seeds") {
		seeds, err := experiment.ParseSeeds(f.seeds)
		if err != nil {
			return nil, usagef("--%v", err)
		}
		s.Seeds = seeds
	} else if len(s.Seeds) == 0 {
		s.Seeds, _ = experiment.ParseSeeds("0-29")
	}
	if f.baseline != "" {
		s.Baseline = f.baseline
	}
	if err := s.Check(); err != nil {
		var seed *experiment.SeedSettingError
		if errors.As(err, &seed) {
			return nil, usagef("%s: seeds are given by --seeds (spec: seeds), the same for every configuration", seed.At)
		}
		return nil, usageError{err}
	}
	// A named seed that is not run would place nothing: the report's
	// column of it would be dashes, and nothing would say why. The
	// default (42) is exempt: the default seeds (0-29) leave it out.
	if !slices.Contains(s.Seeds, s.NamedSeed) {
		switch {
		case f.fs.Changed("named-seed"):
			return nil, usagef("--named-seed %d: not one of the experiment's seeds (%s)", s.NamedSeed, experiment.FormatSeeds(s.Seeds))
		case s.NamedSeedGiven:
			return nil, usagef("spec %s: named_seed %d: not one of the experiment's seeds (%s)", f.spec, s.NamedSeed, experiment.FormatSeeds(s.Seeds))
		}
	}
	// Relative file paths (--model) stay those of this directory, and
	// the files' content is recorded: report, collect and Slurm tasks read
	// the same files from anywhere, and refuse one that changed.
	s.Pin(".")
	return s, nil
}

// defaultDir names an experiment's directory by its settings, grid and
// configurations, not its seeds: the same command continues the same
// experiment, and one with more seeds extends it. A directory an earlier
// version named with the seeds too is taken where it exists and the new
// one does not.
func defaultDir(s *experiment.Spec) string {
	name := func(seeds bool) string {
		h := sha256.New()
		if seeds {
			fmt.Fprintf(h, "%v|%v|%v", s.Base, s.Grid, s.Seeds)
		} else {
			fmt.Fprintf(h, "%v|%v|seeds", s.Base, s.Grid)
		}
		if len(s.Configs) > 0 {
			fmt.Fprintf(h, "|%v", s.Configs)
		}
		return filepath.Join("experiments", hex.EncodeToString(h.Sum(nil))[:8])
	}
	dir, old := name(false), name(true)
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		if fi, err := os.Stat(old); err == nil && fi.IsDir() {
			return old
		}
	}
	return dir
}

// prepare reads the spec (or the experiment directory's, when only --dir
// is given), plans the runs, calls check (when not nil) and records the
// spec in the directory: nothing is written before check has passed.
func (f *experimentFlags) prepare(check func(dir string, runs []experiment.Run) error) (string, *experiment.Spec, []experiment.Run, error) {
	var s *experiment.Spec
	var err error
	onlyDir := f.dir != "" && f.spec == "" && !f.fs.Changed("seeds") && len(f.grid) == 0 && len(f.configs) == 0 && len(f.settingsOf()) == 0
	if onlyDir {
		if s, err = experiment.ReadSpec(f.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", nil, nil, usageError{err}
		}
	}
	if s == nil {
		if s, err = f.specOf(); err != nil {
			return "", nil, nil, err
		}
	}
	dir := f.dir
	if dir == "" {
		dir = defaultDir(s)
	}
	runs, err := experiment.Plan(dir, s, applySettings)
	if err != nil {
		err = expUsage(optimizerHint(scheduleHint(changedHint(err), s)))
		if f.spec != "" { // name the file, as its other errors do
			err = usagef("%s: %v", f.spec, err)
		}
		return "", nil, nil, err
	}
	if check != nil {
		if err := check(dir, runs); err != nil {
			return "", nil, nil, err
		}
	}
	// An experiment writes into its directory as train writes into --out:
	// never into the data it reads.
	if f.data.path != "" && rundir.Holds(dir, f.data.path) {
		return "", nil, nil, usagef("--dir %s %v (%s): choose another directory", dir, rundir.ErrHoldsData, f.data.path)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if errors.Is(err, syscall.ENOTDIR) { // as train's --out
			return "", nil, nil, usagef("--dir %s: not a directory (a file is there, or in its path): choose a directory", dir)
		}
		return "", nil, nil, fmt.Errorf("--dir %s: %w", dir, oserr.Bare(err))
	}
	f.use, err = experiment.RecordSpec(dir, s, runs, applySettings)
	if err != nil {
		var se *experiment.SpecError
		var ne *experiment.NotExperimentError
		if errors.As(err, &se) || errors.As(err, &ne) {
			return "", nil, nil, usageError{changedHint(err)}
		}
		return "", nil, nil, err
	}
	return dir, s, runs, nil
}

// changedHint names the flags of the advice ending a changed file's or
// changed data's error ("the experiment's own data", "another experiment
// directory"): this command's --data and --dir.
func changedHint(err error) error {
	var fc *experiment.FileChangedError
	var dc *experiment.DataChangedError
	switch {
	case errors.As(err, &dc):
		return fmt.Errorf("%w (--data, --dir)", err)
	case errors.As(err, &fc):
		return fmt.Errorf("%w (--dir)", err)
	}
	return err
}

// expUsage makes an invalid configuration a usage error naming its flag:
// "grid batch-size=0: want 1 to ..." where the configuration sets the
// flag itself (not "grid batch-size=0: --batch-size 0: ..."), and "base:
// --batch-size 0: ..." where it comes from elsewhere.
func expUsage(err error) error {
	var fe *train.FieldError
	var ce *experiment.ConfigError
	if !errors.As(err, &fe) {
		if errors.As(err, &ce) && len(ce.Settings) == 1 && saysSetting(ce) {
			// "grid model=a.json: model a.json: no such file" names the
			// setting twice: the second goes.
			n, v, msg := ce.Settings[0].Name, ce.Settings[0].Value, ce.Err.Error()
			for _, p := range []string{"--" + n + " " + v + ": ", "--" + n + ": ", n + " " + v + ": ", n + "=" + v + ": "} {
				if strings.HasPrefix(msg, p) {
					return usagef("%s: %s", ce.Where, msg[len(p):])
				}
			}
		}
		return usageError{err}
	}
	flag := flagName(fe.Field)
	if errors.As(err, &ce) && len(ce.Settings) == 1 && ce.Settings[0].Name == flag && saysSetting(ce) {
		return usagef("%s: %s", ce.Where, fe.Want)
	}
	return usagef("%s", strings.Replace(err.Error(), fe.Field+" ", "--"+flag+" ", 1))
}

// saysSetting says that a configuration's name says its one setting
// ("grid lr=abc", not "config fast").
func saysSetting(ce *experiment.ConfigError) bool {
	return strings.HasSuffix(ce.Where, " "+ce.Settings[0].Name+"="+ce.Settings[0].Value)
}

// shardOf reads --shard I/N or the scheduler's array index.
func shardOf(flag string) (i, n int, err error) {
	src := "--shard"
	if flag == "" {
		// One of a pair set without the other (or set empty) would run
		// every run in every task: refused, as a garbled value is.
		for _, p := range [][2]string{{"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT"}, {"JOB_COMPLETION_INDEX", "CIFARNET_SHARDS"}} {
			a, aSet := os.LookupEnv(p[0])
			b, bSet := os.LookupEnv(p[1])
			if (aSet || bSet) && (a == "" || b == "") {
				return 0, 0, usagef("%s=%q and %s=%q: a sharded task needs both (or give --shard I/N)", p[0], a, p[1], b)
			}
		}
		switch {
		case os.Getenv("SLURM_ARRAY_TASK_ID") != "" && os.Getenv("SLURM_ARRAY_TASK_COUNT") != "":
			flag = os.Getenv("SLURM_ARRAY_TASK_ID") + "/" + os.Getenv("SLURM_ARRAY_TASK_COUNT")
			src = "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT"
		case os.Getenv("JOB_COMPLETION_INDEX") != "" && os.Getenv("CIFARNET_SHARDS") != "":
			flag = os.Getenv("JOB_COMPLETION_INDEX") + "/" + os.Getenv("CIFARNET_SHARDS")
			src = "JOB_COMPLETION_INDEX/CIFARNET_SHARDS"
		default:
			return 0, 1, nil
		}
	}
	a, b, ok := strings.Cut(flag, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || n > 100000 || i < 0 || i >= n {
		hint := ""
		if src == "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT" {
			hint = "; a task resubmitted alone (sbatch --array=I) is in an array of one: give --shard I/N"
		}
		return 0, 0, usagef("%s %s: want I/N with 0 <= I < N <= 100000 (e.g. 0/4)%s", src, flag, hint)
	}
	return i, n, nil
}

// checkExecution checks the flags of how the runs execute.
func (f *experimentFlags) checkExecution() error {
	if f.parallel < 0 {
		return usagef("--parallel %d: want 0 (one per CPU) or more", f.parallel)
	}
	if f.cfg.Threads < 0 || f.cfg.Threads > train.MaxThreads {
		return usagef("--threads %d: want 0 (the CPUs divided among the runs) to %d", f.cfg.Threads, train.MaxThreads)
	}
	return nil
}

func executeExperiment(stdout io.Writer, f *experimentFlags) error {
	si, sn, err := shardOf(f.shard)
	if err != nil {
		return err
	}
	if err := f.checkExecution(); err != nil {
		return err
	}
	dir, s, runs, err := f.prepare(nil)
	if err != nil {
		return err
	}
	defer f.use.Release()
	mine := experiment.Shard(runs, si, sn)
	if !f.quiet {
		what := report.Count(len(runs), "run")
		if sn > 1 {
			what = fmt.Sprintf("shard %d of %d: %d of its %s", si, sn, len(mine), report.Count(len(runs), "run"))
		}
		fmt.Fprintf(stdout, "Experiment %s: %s (%s x %s)\n", dir, what, report.Count(len(runs)/len(s.Seeds), "configuration"), report.Count(len(s.Seeds), "seed"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := experiment.Options{Parallel: f.parallel, Threads: f.cfg.Threads,
		Find:      func(info dataset.Info) (string, error) { return f.data.find(info, os.Stderr) },
		Interrupt: func() bool { return ctx.Err() != nil }, Backup: f.backup.freq, Warn: warn, Dir: dir}
	if !f.quiet {
		o.Progress, o.Terminal = stdout, isTerminal(stdout)
	}
	err = experiment.Execute(mine, o)
	var busy *experiment.Busy
	var intr *experiment.Interrupted
	if errors.As(err, &busy) {
		fmt.Fprintf(os.Stderr, "cifarnet: experiment %s: %v; once it has finished: cifarnet experiment report %s\n", dir, busy, dir)
		return exitError{1, errQuiet}
	}
	var pm *experiment.ParallelMemory
	if errors.As(err, &pm) {
		return usagef("--parallel %d: %v", f.parallel, pm)
	}
	var dc *experiment.DataChangedError
	if errors.As(err, &dc) {
		return usageError{changedHint(err)}
	}
	if errors.As(err, &intr) {
		again := "run the same command again to continue"
		if id, err := strconv.Atoi(os.Getenv("SLURM_ARRAY_TASK_ID")); err == nil && id >= 0 && filepath.IsAbs(dir) {
			// A cancelled or timed-out array task is rerun by resubmitting its index.
			again = fmt.Sprintf("continue with: sbatch --array=%d %s", id, shellQuote(filepath.Join(dir, SlurmScript)))
		}
		fmt.Fprintf(os.Stderr, "cifarnet: experiment %s: %v; %s\n", dir, intr, again)
		return exitError{130, errQuiet}
	}
	if err != nil {
		return expUsageIfInvalid(err)
	}
	if sn > 1 {
		fmt.Fprintf(stdout, "Shard %d of %d done; when every shard is: cifarnet experiment collect %s\n", si, sn, shellQuote(dir))
		return nil
	}
	return writeExperiment(stdout, dir, s, runs)
}

// expUsageIfInvalid makes an invalid setting found late a usage error.
func expUsageIfInvalid(err error) error {
	if errors.Is(err, train.ErrInvalid) {
		return usageError{err}
	}
	return err
}

// accuracyLine says a configuration's test accuracy over its runs: the
// mean, the standard deviation of the runs and the mean's interval, named
// ("0.3627 ± 0.0296 (95% CI ...)" left the ± to be guessed), and no NaN
// where there is no spread to measure.
func accuracyLine(a stats.Summary) string {
	diverged := ""
	if a.Missing > 0 {
		diverged = fmt.Sprintf("; %d diverged, left out", a.Missing)
	}
	switch {
	case a.N == 0 && a.Missing > 0:
		return fmt.Sprintf("n=0   every finished run diverged (%d)", a.Missing)
	case a.N == 0:
		return "n=0   no finished run"
	case a.N == 1:
		return fmt.Sprintf("n=1   test accuracy %.4f (one run: no spread, no interval%s)", a.Mean, diverged)
	}
	line := fmt.Sprintf("n=%-3d test accuracy mean %.4f, sd %.4f, 95%% CI of the mean %.4f to %.4f", a.N, a.Mean, a.SD, a.CILow, a.CIHigh)
	if a.N < stats.FewRuns {
		line += " (too few runs: the real uncertainty is wider)"
	}
	if diverged != "" {
		line += " (" + diverged[2:] + ")"
	}
	return line
}

func writeExperiment(stdout io.Writer, dir string, s *experiment.Spec, runs []experiment.Run) error {
	sum, err := experiment.Write(dir, s, runs)
	if err != nil {
		return err
	}
	st := sum.Statistics
	for _, m := range st.Missing {
		fmt.Fprintf(os.Stderr, "cifarnet: warning: missing run: %s seed %d (%s): %s\n", m.Config, m.Seed, m.Dir, m.Reason)
	}
	for _, c := range st.Configurations {
		fmt.Fprintf(stdout, "%-30s %s\n", c.Config, accuracyLine(c.TestAccuracy))
		// Where the exercise's own run falls, when it was run.
		if p := c.Named; p != nil && p.Rank > 0 {
			fmt.Fprintf(stdout, "%-30s seed %d: test accuracy %.4f, ranks %d of %s (1 = best)\n", "", s.NamedSeed, p.Value, p.Rank, report.Count(p.N, "run"))
		}
	}
	for _, c := range st.Comparisons {
		fmt.Fprintln(stdout, c.Sentence)
	}
	fmt.Fprintf(stdout, "%s\n", filepath.Join(dir, "report.html"))
	return nil
}

func newExperimentReportCmd(name, short string) *cobra.Command {
	return &cobra.Command{
		Use:   name + " DIR",
		Short: short,
		Long: short + `.

Reads DIR/spec.json and every run's metrics.json and history.json, and
writes experiment.json, runs.csv, summary.csv, the figures and report.html.
A run that has not finished (a shard still running, failed or never
submitted) is named as missing, never left out silently. Each finished
run's own report is then redrawn, its reading saying where the run falls
among the others. A model file changed since the experiment began gets a
warning: the runs redrawn are those trained, as experiment.json names
them (the experiment itself refuses to train more of them).`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			s, err := experiment.ReadSpec(dir)
			if err != nil {
				return usageError{err}
			}
			// Redrawing trains nothing: a model file changed since the
			// experiment began, which the experiment itself refuses, only
			// gets a warning here, the runs being those trained.
			runs, changed, err := experiment.PlanRecorded(dir, s, applySettings)
			if err != nil {
				return expUsage(err)
			}
			for _, c := range changed {
				warn(fmt.Sprintf("%s %s changed since the experiment began (SHA-256 %.12s… then, %.12s… now): the report describes the runs as they were trained, of the file as it was then", c.Setting, c.Path, c.Was, c.Now))
			}
			if err := writeExperiment(cmd.OutOrStdout(), dir, s, runs); err != nil {
				return err
			}
			// Every run's own report then says where it falls among the others;
			// a run damaged since it finished keeps its report, with a warning.
			var up *report.UnplacedError
			if err := experiment.PlaceRuns(dir, runs); errors.As(err, &up) {
				for _, p := range up.Problems {
					warn("run's report not redrawn: " + p)
				}
			} else if err != nil {
				return err
			}
			return nil
		},
	}
}
