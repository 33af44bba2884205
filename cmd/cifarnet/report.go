package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cifarnet/cifarnet/report"
)

func newReportCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "report RUN_DIR",
		Short: "Regenerate a finished run's plots and report.html without training",
		Long: `Redraw the figures (loss, accuracy, the learning rate when it changed,
confusion matrices, per-class scores, calibration, test images with
predictions; PNG and SVG) and report.html of a finished run from its
history.json and metrics.json. The test images for the grid are read
from the data the run used, or from --data.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], data)
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "where the test images are, if not where the run read them")
	return cmd
}

func runReport(stdout, stderr io.Writer, dir, data string) error {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("run %s: not a run directory", dir)
	}
	r, warning, err := report.Load(dir, data)
	if err != nil {
		return err
	}
	if warning != "" {
		fmt.Fprintf(stderr, "cifarnet: warning: %s\n", warning)
	}
	figs, err := report.Write(r)
	if err != nil {
		return err
	}
	for _, f := range figs {
		fmt.Fprintf(stdout, "%s.png %s.svg\n", filepath.Join(dir, f.Name), filepath.Join(dir, f.Name))
	}
	fmt.Fprintln(stdout, filepath.Join(dir, report.HTMLFile))
	return nil
}
