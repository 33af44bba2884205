package main

import (
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for predict
	_ "image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/datasets"
	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/internal/finitejson"
	"github.com/cifarnet/cifarnet/internal/memlimit"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/quote"
	"github.com/cifarnet/cifarnet/internal/regular"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/rundir"
	"github.com/cifarnet/cifarnet/saving"
	"github.com/cifarnet/cifarnet/tensor"
	"github.com/cifarnet/cifarnet/train"
)

// EvaluationFile is what "cifarnet evaluate" writes beside the model.
const EvaluationFile = "evaluation.json"

func newEvaluateCmd() *cobra.Command {
	var modelFlag string
	var data dataFlags
	var samples, batch, threads int
	var mc mcFlags
	cmd := &cobra.Command{
		Use:   "evaluate [flags] RUN_DIR",
		Short: "Evaluate a saved model on the test set",
		Long: `Evaluate the model saved in a run directory on the first --test-samples test
images of the data set it was trained on (model.json says which): prints loss
and accuracy as Keras's model.evaluate does, and writes evaluation.json
(loss, accuracy, confusion matrix, per-class precision, recall and F1) into
the run directory. By default it takes the run's own test images: as many as
the run was tested on, from where the run read them (metrics.json), so that
it repeats the run's test accuracy. The run directory is given as the
argument or with --model.

--mc-samples N adds Monte Carlo dropout: each image's probabilities are the
mean of N stochastic passes with the dropout and noise layers active (Batch
Normalization stays at inference), drawn from --mc-seed; evaluation.json
then reports both the deterministic and the MC figures.`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			modelDir, err := runDirArg(cmd, args, modelFlag)
			if err != nil {
				return err
			}
			switch {
			case cmd.Flags().Changed("test-samples") && samples < 1:
				return usagef("--test-samples %d: want at least 1", samples)
			case batch < 1 || batch > train.MaxBatchSize:
				return usagef("--batch-size %d: want 1 to %d", batch, train.MaxBatchSize)
			case threads < 0 || threads > train.MaxThreads:
				return usagef("--threads %d: want 0 (all CPUs) to %d", threads, train.MaxThreads)
			}
			if err := mc.check(cmd.Flags()); err != nil {
				return err
			}
			// The run's own test set unless told otherwise (the default
			// was the exercise's 1000 images from the default places,
			// whatever the run had used).
			if !cmd.Flags().Changed("test-samples") {
				samples = 1000
			}
			m, err := train.ReadMetrics(modelDir) // history.json is not needed
			from := "--test-samples"
			var run *train.Metrics // the run's record, to check the data against
			switch {
			case err == nil:
				run = m
				if !cmd.Flags().Changed("test-samples") {
					if m.Config.TestSamples < 1 {
						return fmt.Errorf("run %s: %s: test_samples %d: want 1 or more: give --test-samples", modelDir, train.MetricsJSON, m.Config.TestSamples)
					}
					samples, from = m.Config.TestSamples, fmt.Sprintf("%s's test_samples", train.MetricsJSON)
				}
				if data.path == "" && m.Env.Data != "" {
					if _, err := os.Stat(m.Env.Data); err == nil {
						data.path = m.Env.Data
					}
				}
			case !errors.Is(err, fs.ErrNotExist) && (data.path == "" || !cmd.Flags().Changed("test-samples")):
				// A damaged record cannot say where the run's test set
				// was: rather than guess (and fail later on the data),
				// ask for what it would have said.
				return fmt.Errorf("%v: give --data and --test-samples to evaluate without it", err)
			}
			return runEvaluate(cmd.OutOrStdout(), modelDir, data, samples, from, batch, threads, mc, run)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&modelFlag, "model", "", "run directory of the saved model (or give it as the argument)")
	addDataFlags(fs, &data)
	fs.Lookup("data").Usage = "where the data set's files are (default: where the run read them, if they are still there; else as train looks for them)"
	fs.IntVar(&samples, "test-samples", 0, "evaluate on the first N test images (1-10000; default: as many as the run was tested on, else 1000)")
	fs.IntVar(&batch, "batch-size", 32, "evaluation batch size (Keras's default: 32)")
	fs.IntVar(&threads, "threads", 0, "worker threads (0: all CPUs)")
	addMCFlags(fs, &mc)
	return cmd
}

// mcFlags are Monte Carlo dropout's flags.
type mcFlags struct {
	samples int
	seed    uint64
}

func addMCFlags(fs *pflag.FlagSet, f *mcFlags) {
	fs.IntVar(&f.samples, "mc-samples", 0, "Monte Carlo dropout: average the probabilities of N stochastic passes (dropout and noise layers active, Batch Normalization at inference); 0: off")
	fs.Uint64Var(&f.seed, "mc-seed", 42, "Monte Carlo dropout: seed of the random layers' draws")
}

// maxMCSamples bounds --mc-samples (each is a full pass over the images).
const maxMCSamples = 10000

func (f mcFlags) check(fs *pflag.FlagSet) error {
	switch {
	case f.samples < 0 || f.samples > maxMCSamples:
		return usagef("--mc-samples %d: want 0 (off) to %d", f.samples, maxMCSamples)
	case f.samples == 0 && fs.Changed("mc-seed"):
		return usagef("--mc-seed %d: Monte Carlo dropout is off: give --mc-samples too, or leave --mc-seed out", f.seed)
	}
	return nil
}

// needsRandomLayers refuses MC dropout on a model without random layers,
// where every pass would be the same.
func (f mcFlags) needsRandomLayers(m *nn.Sequential) error {
	if f.samples > 0 && !m.HasRandomLayers() {
		return usagef("--mc-samples %d: the model has no dropout or noise layer, so every pass would be the deterministic one", f.samples)
	}
	return nil
}

// MCEvaluation is evaluation.json's Monte Carlo dropout part.
type MCEvaluation struct {
	Samples  int     `json:"samples"`
	Seed     uint64  `json:"seed"`
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy"`
}

// Evaluation is evaluation.json.
type Evaluation struct {
	Loss      float64 `json:"loss"`
	Accuracy  float64 `json:"accuracy"`
	Samples   int     `json:"samples"`
	Dataset   string  `json:"dataset"`
	LabelMode string  `json:"label_mode,omitempty"`
	Data      string  `json:"data"`
	// DataNotOfficial names the files read that are not the official ones.
	DataNotOfficial []string            `json:"data_not_official,omitempty"`
	Confusion       [][]int             `json:"confusion_matrix"`
	PerClass        []train.ClassScores `json:"per_class"`
	Classes         []string            `json:"class_names"`
	// MCDropout holds the Monte Carlo dropout figures (--mc-samples).
	MCDropout *MCEvaluation `json:"mc_dropout,omitempty"`
}

// from names where samples came from (the flag, or the run's metrics.json);
// run, if not nil, is the run's record, whose data_sha256 the data are
// checked against when its test set is evaluated.
func runEvaluate(stdout io.Writer, modelDir string, dataFlag dataFlags, samples int, from string, batch, threads int, mc mcFlags, run *train.Metrics) error {
	m, cfg, err := saving.Load(modelDir)
	if err != nil {
		return err
	}
	if err := mc.needsRandomLayers(m); err != nil {
		return err
	}
	info, err := modelData(modelDir, m, cfg)
	if err != nil {
		return err
	}
	if samples > info.TestSize {
		return usagef("%s %d: want 1 to %d (%s has %d test images)", from, samples, info.TestSize, info.Title(), info.TestSize)
	}
	// The batch's activations are counted from the model before any data
	// is read or allocated.
	if err := train.CheckEvaluation(m, batch, samples, memlimit.Available()); err != nil {
		return flagError(err)
	}
	src, err := dataFlag.find(info, os.Stderr)
	if err != nil {
		return err
	}
	// The run's own test set is checked against the SHA-256 it recorded
	// (of its training and test samples, so those are read too): other
	// data give another accuracy, which evaluate must not pass off as the
	// run's repeated.
	data, err := rundir.LoadData(info, src, train.Config{TestSamples: samples})
	if err != nil {
		return flagError(err)
	}
	if run != nil && len(run.Env.DataSHA256) == 64 && samples == run.Config.TestSamples && run.Config.TrainSamples > 0 {
		// Its training samples alone are read besides the test set.
		c := train.Config{TrainSamples: run.Config.TrainSamples, TestSamples: samples}
		tr, err := rundir.LoadData(info, src, train.Config{TrainSamples: c.TrainSamples})
		if err != nil {
			warn(fmt.Sprintf("the data at %s cannot be checked against those run %s recorded: %v", src, modelDir, err))
		} else if now := rundir.DataChecksum(&dataset.Data{Train: tr.Train, Test: data.Test}, c); now != run.Env.DataSHA256 {
			warn(fmt.Sprintf("the data at %s are not those run %s was trained and tested on (SHA-256 %.12s… then, %.12s… now): this is not its test accuracy repeated",
				src, modelDir, run.Env.DataSHA256, now))
		}
	}
	if w := data.NotOfficialWarning(); w != "" {
		warn(w)
	}
	e := tensor.NewEngine(threads)
	defer e.Close()
	p := &train.Progress{W: stdout, Terminal: isTerminal(stdout)}
	labels := data.Test.Int32Labels()
	res := train.Evaluate(e, m, train.PixelRows{Pixels: data.Test.Pixels, W: data.Test.Features()}, labels, batch, p.EvalProgress())
	conf := train.NewConfusion(labels, res.Predicted, m.Outputs())
	ev := Evaluation{Loss: res.Loss, Accuracy: res.Accuracy, Samples: samples, Dataset: info.Name, LabelMode: info.LabelMode, Data: src, DataNotOfficial: data.NotOfficial,
		Confusion: conf.Counts, PerClass: conf.PerClass(), Classes: cfg.ClassNames}
	if mc.samples > 0 {
		r := train.EvaluateMC(e, m, train.PixelRows{Pixels: data.Test.Pixels, W: data.Test.Features()}, labels, batch, mc.samples, mc.seed)
		ev.MCDropout = &MCEvaluation{Samples: mc.samples, Seed: mc.seed, Loss: r.Loss, Accuracy: r.Accuracy}
	}
	// The figures are printed first: a file that cannot be written (a
	// read-only directory) does not lose what was computed.
	fmt.Fprintf(stdout, "Test loss: %.4f\nTest accuracy: %.4f\n", res.Loss, res.Accuracy)
	if ev.MCDropout != nil {
		n := report.Count(mc.samples, "sample")
		fmt.Fprintf(stdout, "MC dropout (%s) test loss: %.4f\nMC dropout (%s) test accuracy: %.4f\n",
			n, ev.MCDropout.Loss, n, ev.MCDropout.Accuracy)
	}
	return atomicfile.WriteJSON(filepath.Join(modelDir, EvaluationFile), ev)
}

func newPredictCmd() *cobra.Command {
	var modelDir string
	var asJSON bool
	var top int
	var mc mcFlags
	cmd := &cobra.Command{
		Use:   "predict [flags] RUN_DIR IMAGE...",
		Short: "Classify PNG or JPEG images with a saved model",
		Long: `Classify PNG or JPEG images of any size with the model saved in a run
directory, prepared as the model's data set was (model.json's
preprocessing): composited over black, resized to the model's input size
(32x32 for CIFAR, 28x28 for the MNIST family) with a Catmull-Rom filter,
turned to gray for a grayscale model, and scaled to [0,1] as in training.
The top classes are printed with their probabilities, or as JSON with --json.
With --mc-samples N the probabilities are Monte Carlo dropout's: the mean of
N passes with the dropout and noise layers active, drawn from --mc-seed.
The run directory is given as the first argument or with --model.`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, images, err := predictArgs(cmd, args, modelDir)
			if err != nil {
				return err
			}
			if top < 1 {
				return usagef("--top %d: want at least 1", top)
			}
			if err := mc.check(cmd.Flags()); err != nil {
				return err
			}
			return runPredict(cmd.OutOrStdout(), dir, images, top, asJSON, mc)
		},
	}
	cmd.Flags().StringVar(&modelDir, "model", "", "run directory of the saved model (or give it as the first argument)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	cmd.Flags().IntVar(&top, "top", 3, "number of classes to print per image")
	addMCFlags(cmd.Flags(), &mc)
	return cmd
}

// predictArgs splits predict's arguments into the run directory and the
// images: --model (modelDir) gives it, else the first argument, which must
// then be a directory (an image never is one). With --model, every
// argument is an image: a directory among them is refused as an image.
func predictArgs(cmd *cobra.Command, args []string, modelDir string) (string, []string, error) {
	if modelDir != "" {
		return modelDir, args, runDirFile("--model", modelDir)
	}
	if fi, err := os.Stat(args[0]); err != nil || !fi.IsDir() {
		return "", nil, usagef("no run directory: give RUN_DIR IMAGE... or --model RUN_DIR IMAGE... (see '%s --help')", cmd.CommandPath())
	}
	if len(args) == 1 {
		return "", nil, usagef("no image: give RUN_DIR IMAGE... (see '%s --help')", cmd.CommandPath())
	}
	return args[0], args[1:], nil
}

// Prediction is one image's result in predict's JSON output.
type Prediction struct {
	File string      `json:"file"`
	Top  []ClassProb `json:"top"`
	// MCSamples is the number of Monte Carlo dropout passes averaged
	// (--mc-samples); absent for the deterministic prediction.
	MCSamples int `json:"mc_samples,omitempty"`
}

// ClassProb is one class with its probability.
type ClassProb struct {
	Class       string  `json:"class"`
	Index       int     `json:"index"`
	Probability float64 `json:"probability"`
}

func runPredict(stdout io.Writer, modelDir string, files []string, top int, asJSON bool, mc mcFlags) error {
	m, cfg, err := saving.Load(modelDir)
	if err != nil {
		return err
	}
	if err := mc.needsRandomLayers(m); err != nil {
		return err
	}
	shape, err := inputShape(modelDir, m, cfg)
	if err != nil {
		return err
	}
	// All the images go through the model at once: their activations are
	// counted first.
	var fe *train.FieldError
	if err := train.CheckEvaluation(m, len(files), len(files), memlimit.Available()); errors.As(err, &fe) {
		return usagef("%d images: %s; give fewer at a time", len(files), fe.Want)
	}
	// Decode every image before printing anything, so a bad file fails
	// the whole command cleanly.
	x := make([]float32, 0, len(files)*shape.Features())
	for _, name := range files {
		img, err := decodeImage(name)
		if err != nil {
			return err
		}
		x = append(x, dataset.FromImage(img, shape)...)
	}
	e := tensor.NewEngine(0)
	defer e.Close()
	probs := make([]float32, len(files)*m.Outputs())
	if mc.samples > 0 {
		predictMC(e, m, x, len(files), mc, probs)
	} else {
		m.Predict(e, x, m.Inputs(), len(files), probs)
	}
	preds := topClasses(probs, m, cfg.ClassNames, files, top)
	for i := range preds {
		preds[i].MCSamples = mc.samples
	}
	if asJSON {
		// A NaN model's probabilities are null, not an empty answer.
		js, err := finitejson.MarshalIndent(preds, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(js))
		return nil
	}
	if mc.samples > 0 {
		fmt.Fprintf(stdout, "Monte Carlo dropout: each image's probabilities are the mean of %d passes with the dropout and noise layers active (--mc-seed %d)\n", mc.samples, mc.seed)
	}
	for _, p := range preds {
		parts := make([]string, len(p.Top))
		for i, c := range p.Top {
			parts[i] = fmt.Sprintf("%s %.1f%%", c.Class, 100*c.Probability)
		}
		fmt.Fprintf(stdout, "%s: %s\n", p.File, strings.Join(parts, ", "))
	}
	return nil
}

// inputShape is the image shape model.json's preprocessing gives the
// model's input, checked against the network.
func inputShape(dir string, m *nn.Sequential, cfg *saving.Config) (dataset.Shape, error) {
	d := cfg.Preprocessing.InputShape
	if len(d) != 3 || d[0] < 1 || d[1] < 1 || (d[2] != 1 && d[2] != 3) {
		return dataset.Shape{}, fmt.Errorf("model %s: %s: input_shape %v, want [height, width, 1 or 3]", dir, saving.ConfigFile, d)
	}
	s := dataset.Shape{Height: d[0], Width: d[1], Channels: d[2]}
	if s.Features() != m.Inputs() {
		return dataset.Shape{}, fmt.Errorf("model %s: %s: input_shape %v is %d values, the network takes %d", dir, saving.ConfigFile, d, s.Features(), m.Inputs())
	}
	// The images are prepared as the model's data set's were: a shape
	// of the same size but another layout (96x32 gray for 32x32 RGB)
	// would feed the network what it never saw.
	if info, err := modelData(dir, m, cfg); err != nil {
		return dataset.Shape{}, err
	} else if info.Shape != s {
		return dataset.Shape{}, fmt.Errorf("model %s: %s: input_shape %v, but %s's images are %dx%dx%d", dir, saving.ConfigFile, d, info.Title(), info.Shape.Height, info.Shape.Width, info.Shape.Channels)
	}
	return s, nil
}

// modelData is the data set a saved model was trained on, checked against
// the network's inputs and outputs.
func modelData(dir string, m *nn.Sequential, cfg *saving.Config) (dataset.Info, error) {
	info, err := datasets.Lookup(cfg.Dataset, cfg.LabelMode)
	if err != nil {
		return info, fmt.Errorf("model %s: %s: %v", dir, saving.ConfigFile, err)
	}
	if info.Features() != m.Inputs() || info.NumClasses() != m.Outputs() {
		return info, fmt.Errorf("model %s: the network takes %d inputs and gives %d classes, but %s has %d and %d", dir, m.Inputs(), m.Outputs(), info.Title(), info.Features(), info.NumClasses())
	}
	return info, nil
}

func topClasses(probs []float32, m *nn.Sequential, names []string, files []string, top int) []Prediction {
	k := m.Outputs()
	var out []Prediction
	for i, f := range files {
		row := probs[i*k : (i+1)*k]
		idx := make([]int, k)
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
		p := Prediction{File: f}
		for _, j := range idx[:min(top, k)] {
			name := fmt.Sprint(j)
			if j < len(names) {
				name = names[j]
			}
			p.Top = append(p.Top, ClassProb{name, j, float64(row[j])})
		}
		out = append(out, p)
	}
	return out
}

// maxPixels bounds an image predict decodes (an 8K frame has 33 million
// pixels): decoding and compositing take about 8 bytes a pixel, so a file
// of a few bytes declaring 100000 x 100000 pixels must be refused from its
// header, not decoded.
const maxPixels = 1 << 25

func decodeImage(name string) (image.Image, error) {
	f, err := regular.Open(name)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", name, oserr.Bare(err))
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("image %s: not a PNG or JPEG image: %s", name, quote.Line(err.Error(), 4*quote.Max))
	}
	if format != "png" && format != "jpeg" {
		return nil, fmt.Errorf("image %s: format %s, want PNG or JPEG", name, format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("image %s: empty image (%dx%d)", name, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, fmt.Errorf("image %s: %dx%d pixels, more than the %d predict accepts", name, cfg.Width, cfg.Height, maxPixels)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("image %s: %w", name, oserr.Bare(err))
	}
	img, format, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("image %s: not a valid %s image: %s", name, strings.ToUpper(format), quote.Line(err.Error(), 4*quote.Max))
	}
	if b := img.Bounds(); b.Empty() || b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("image %s: decoded %v, its header says %dx%d", name, b, cfg.Width, cfg.Height)
	}
	return img, nil
}

// predictMC writes into probs the mean class probabilities of mc.samples
// Monte Carlo dropout passes over the n rows of x.
func predictMC(e *tensor.Engine, m *nn.Sequential, x []float32, n int, mc mcFlags, probs []float32) {
	c := m.Outputs()
	clear(probs)
	m.SeedRandom(mc.seed)
	for range mc.samples {
		p := m.ForwardMC(e, x, m.Inputs(), n)[:n*c]
		nn.Softmax(p, c)
		for i, v := range p {
			probs[i] += v
		}
	}
	for i := range probs {
		probs[i] /= float32(mc.samples)
	}
}
