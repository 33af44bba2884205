package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/cifarnet/cifarnet/internal/atomicfile"
)

// SlurmScript is the sbatch script's name in the experiment directory.
const SlurmScript = "experiment.sbatch"

type slurmFlags struct {
	shards    int
	cpus      int
	mem       string
	time      string
	partition string
	binary    string
	submit    bool
	wait      bool
}

func newExperimentSlurmCmd() *cobra.Command {
	var f experimentFlags
	var sf slurmFlags
	cmd := &cobra.Command{
		Use:   "slurm [experiment flags] --shards N [--submit]",
		Short: "Write (and submit) a Slurm job array that runs an experiment in N shards",
		Long: `Write DIR/experiment.sbatch, a Slurm job array of --shards tasks: task I runs
"cifarnet experiment --dir DIR" on shard I of N (from SLURM_ARRAY_TASK_ID and
SLURM_ARRAY_TASK_COUNT). DIR must be on a file system every node sees. The
experiment (the same flags as "cifarnet experiment") is recorded in DIR first,
so the tasks only read it; each run writes only its own directory, so shards
never write the same file.

A failed or killed task is rerun by resubmitting its index
(sbatch --array=I DIR/experiment.sbatch): its finished runs are kept, its
interrupted ones continue from their checkpoints. When all are done:
cifarnet experiment collect DIR.`,
		Example: `  cifarnet experiment slurm --seeds 0-29 --grid activation=elu,relu,selu --dir /shared/exp/act --shards 9 --submit
  cifarnet experiment collect /shared/exp/act`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return executeSlurm(cmd.OutOrStdout(), &f, sf)
		},
	}
	fs := cmd.Flags()
	addExperimentFlags(fs, &f)
	fs.IntVar(&sf.shards, "shards", 0, "number of array tasks (required; at most the number of runs)")
	fs.IntVar(&sf.cpus, "cpus-per-task", 2, "CPUs of each task (#SBATCH --cpus-per-task)")
	fs.StringVar(&sf.mem, "mem", "2G", "memory of each task (#SBATCH --mem)")
	fs.StringVar(&sf.time, "time", "01:00:00", "time limit of each task (#SBATCH --time)")
	fs.StringVar(&sf.partition, "partition", "", "Slurm partition (#SBATCH --partition; default: the cluster's)")
	fs.StringVar(&sf.binary, "binary", "", "the cifarnet the tasks run (default: this one's absolute path)")
	fs.BoolVar(&sf.submit, "submit", false, "submit the script with sbatch")
	fs.BoolVar(&sf.wait, "wait", false, "with --submit: wait until every task has ended (sbatch --wait)")
	return cmd
}

var sbatchTemplate = template.Must(template.New("sbatch").Parse(`#!/bin/bash
# A Slurm job array running the cifarnet experiment in {{.Dir}},
# written by "cifarnet experiment slurm". Task I runs shard I of {{.Shards}}.
# Rerun a failed task: sbatch --array=I {{.Script}}
#SBATCH --job-name=cifarnet-experiment
#SBATCH --array=0-{{.Last}}
#SBATCH --cpus-per-task={{.CPUs}}
#SBATCH --mem={{.Mem}}
#SBATCH --time={{.Time}}
{{- if .Partition}}
#SBATCH --partition={{.Partition}}
{{- end}}
#SBATCH --output={{.Dir}}/slurm/%A_%a.out
set -euo pipefail
cd {{.Workdir}}
exec {{.Binary}} experiment --dir {{.Dir}}{{.Data}} --quiet
`))

func executeSlurm(stdout io.Writer, f *experimentFlags, sf slurmFlags) error {
	if f.dir == "" {
		return usagef("--dir is required: the experiment directory, on a file system every node sees")
	}
	dir, _, runs, err := f.prepare()
	if err != nil {
		return err
	}
	if sf.shards < 1 || sf.shards > len(runs) {
		return usagef("--shards %d: want 1 to %d (the experiment's runs)", sf.shards, len(runs))
	}
	if sf.cpus < 1 {
		return usagef("--cpus-per-task %d: want at least 1", sf.cpus)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	bin := sf.binary
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return fmt.Errorf("the path of cifarnet: %w (pass --binary)", err)
		}
	}
	wd, _ := os.Getwd()
	data := ""
	if f.data.path != "" {
		p, err := filepath.Abs(f.data.path)
		if err != nil {
			return err
		}
		data = " --data " + shellQuote(p)
	}
	if f.data.offline {
		data += " --offline"
	}
	if err := os.MkdirAll(filepath.Join(abs, "slurm"), 0o755); err != nil {
		return err
	}
	script := filepath.Join(abs, SlurmScript)
	var b bytes.Buffer
	err = sbatchTemplate.Execute(&b, map[string]any{
		"Dir": shellQuote(abs), "Shards": sf.shards, "Last": sf.shards - 1, "CPUs": sf.cpus, "Mem": sf.mem,
		"Time": sf.time, "Partition": sf.partition, "Workdir": shellQuote(wd), "Binary": shellQuote(bin),
		"Data": data, "Script": script,
	})
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(script, b.Bytes(), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d runs in %d array tasks\n", script, len(runs), sf.shards)
	if !sf.submit {
		fmt.Fprintf(stdout, "submit with: sbatch %s\nthen: cifarnet experiment collect %s\n", script, dir)
		return nil
	}
	args := []string{"--parsable"}
	if sf.wait {
		args = append(args, "--wait")
	}
	c := exec.Command("sbatch", append(args, script)...)
	c.Stdout, c.Stderr = stdout, os.Stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("sbatch %s: %w", script, err)
	}
	if sf.wait {
		fmt.Fprintf(stdout, "every task has ended; collect with: cifarnet experiment collect %s\n", dir)
	}
	return nil
}

// shellQuote quotes s for bash when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r == '=' || r == ',' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
