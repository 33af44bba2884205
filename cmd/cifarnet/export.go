package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/onnx"
	"github.com/cifarnet/cifarnet/saving"
)

// ONNXFile is export's default output name inside the run directory.
const ONNXFile = "model.onnx"

func newExportCmd() *cobra.Command {
	var modelDir, format, input, out string
	cmd := &cobra.Command{
		Use:   "export [--format onnx] [--input uint8|float32] [--out FILE.onnx] RUN_DIR",
		Short: "Export a saved model to ONNX, to run it in ONNX Runtime and elsewhere",
		Long: `Export the model saved in a run directory (model.json and model.safetensors)
as a standard ONNX model (opset 17, IR version 8: ONNX Runtime 1.14 and
later), written to RUN_DIR/model.onnx or --out. The run directory is given as
the argument or with --model.

The graph is the network layer by layer in inference form (Dense as Gemm,
each activation as its ONNX operator or the exact composition of operators,
BatchNormalization with its moving statistics, Normalization and Rescaling
as arithmetic, dropout and noise layers removed) and ends in a softmax:
its output, named after the last layer ("dense_4" for the exercise), holds
the class probabilities [batch, classes]. Initializers are named after the
Keras weights ("dense/kernel", "dense/bias", ...), the input "input_layer",
and the class names are in the metadata ("class_names", a JSON array).

--input uint8 (the default) takes raw images, uint8 [batch, height, width,
channels] (RGB, as decoded from PNG or JPEG, already resized to the model's
size, e.g. 32x32 for CIFAR-10); the cast to float32, the division by 255 and
the channels-last flattening happen inside the graph. --input float32 takes
the features cifarnet feeds its first layer: float32 [batch, features], the
image flattened channels-last and divided by 255.

See docs/onnx.md for running the model from Python, Node.js and a web page.`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := runDirArg(cmd, args, modelDir)
			if err != nil {
				return err
			}
			if format != "onnx" {
				return usagef("--format %q: only onnx is supported", format)
			}
			in := onnx.Input(input)
			valid := false
			for _, v := range onnx.Inputs {
				valid = valid || in == v
			}
			if !valid {
				return usagef("--input %q: want uint8 or float32", input)
			}
			if out == "" {
				out = filepath.Join(dir, ONNXFile)
			} else if fi, err := os.Stat(out); err == nil && fi.IsDir() {
				return usagef("--out %s is a directory: want the name of the .onnx file to write", out)
			} else if fi, err := os.Stat(filepath.Dir(out)); err != nil || !fi.IsDir() {
				return usagef("--out %s: directory %s does not exist", out, filepath.Dir(out))
			} else if !strings.EqualFold(filepath.Ext(out), ".onnx") {
				// An export is a .onnx file: then replacing an earlier one is
				// expected, and a run's model.json, or anything else a typo
				// named, is never replaced (an export to x.txt was written,
				// then refused the second time as "not an .onnx file").
				return usagef("--out %s: want a file name ending in .onnx", out)
			}
			return runExport(cmd.OutOrStdout(), dir, out, in)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&modelDir, "model", "", "run directory of the saved model (or give it as the argument)")
	fs.StringVar(&format, "format", "onnx", "output format: onnx")
	fs.StringVar(&input, "input", string(onnx.Uint8), "model input: uint8 (raw images [batch, height, width, channels]) or float32 (features [batch, features])")
	fs.StringVar(&out, "out", "", "output file, a name ending in .onnx (default RUN_DIR/"+ONNXFile+"; an existing one is replaced)")
	return cmd
}

// runDirArg is the run directory of a command that takes it as its one
// argument or with --model (modelDir): one of the two, or both the same.
func runDirArg(cmd *cobra.Command, args []string, modelDir string) (string, error) {
	switch {
	case len(args) == 1 && modelDir != "" && args[0] != modelDir:
		return "", usagef("the run directory is given twice (%q and --model %q): give one", args[0], modelDir)
	case len(args) == 1:
		return args[0], runDirFile("", args[0])
	case modelDir == "":
		return "", usagef("no run directory: give RUN_DIR or --model RUN_DIR (see '%s --help')", cmd.CommandPath())
	}
	return modelDir, runDirFile("--model", modelDir)
}

// runDirFile refuses a file given for a run directory (its
// model.safetensors, say): the failure on a path through it ("metrics.json:
// not a directory") would not say what to give instead. flag is the flag
// that gave it, "" for the argument.
func runDirFile(flag, dir string) error {
	fi, err := os.Stat(dir)
	if err != nil || fi.IsDir() {
		return nil
	}
	in := ""
	parent := filepath.Dir(dir)
	if fi, err := os.Stat(filepath.Join(parent, saving.ConfigFile)); err == nil && fi.Mode().IsRegular() {
		in = " (here " + parent + ")"
	}
	return usagef("%s: a file; give the run directory that holds %s and %s%s", strings.TrimSpace(flag+" "+dir), saving.ConfigFile, saving.WeightsFile, in)
}

func runExport(stdout io.Writer, modelDir, out string, in onnx.Input) error {
	if fi, err := os.Stat(modelDir); err != nil || !fi.IsDir() {
		return usagef("run %s: not a directory holding %s and %s", modelDir, saving.ConfigFile, saving.WeightsFile)
	}
	// A model that cannot be read, or whose weights do not match its
	// description, is bad input like a bad flag: exit status 2.
	m, cfg, err := saving.Load(modelDir)
	if err != nil {
		return usageError{err}
	}
	// The graph's preprocessing is the model's data set's, as predict's.
	if _, err := inputShape(modelDir, m, cfg); err != nil {
		return usageError{err}
	}
	ver := version()
	mp, err := onnx.Export(m, cfg, in)
	if err != nil {
		return usagef("model %s: %v", modelDir, err)
	}
	mp.ProducerVersion = &ver
	err = atomicfile.Write(out, 0o644, func(f *os.File) error { return onnx.Marshal(f, mp) })
	if err != nil {
		return fmt.Errorf("export %s: %w", out, err)
	}
	shape := "[batch, " + fmt.Sprint(m.Inputs()) + "] float32"
	if in == onnx.Uint8 {
		shape = "[batch, " + strings.Trim(strings.Join(strings.Fields(fmt.Sprint(cfg.Preprocessing.InputShape)), ", "), "[]") + "] uint8"
	}
	fmt.Fprintf(stdout, "Wrote %s: input %s %s, output %s [batch, %d] probabilities of %s\n",
		out, onnx.InputName, shape, mp.GetGraph().GetOutput()[0].GetName(), m.Outputs(), strings.Join(cfg.ClassNames, ", "))
	return nil
}
