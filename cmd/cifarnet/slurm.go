package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/cifarnet/cifarnet/experiment"
	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/internal/quote"
	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/train"
)

// SlurmScript is the sbatch script's name in the experiment directory.
const SlurmScript = experiment.SlurmScript

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
interrupted ones continue from their checkpoints (a task killed outright,
from its runs' last backups: --backup-and-restore). When all are done:
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
	def := experiment.DefaultBackup
	addBackupFlag(fs, &f.backup, &def, "a killed task's runs continue from it when the task is resubmitted")
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
# The shard count is written here, not read from SLURM_ARRAY_TASK_COUNT:
# a task resubmitted alone (sbatch --array=I) is in an array of one.
exec {{.Binary}} experiment --dir {{.Dir}}{{.Data}} --shard "${SLURM_ARRAY_TASK_ID}/{{.Shards}}" --quiet
`))

func executeSlurm(stdout io.Writer, f *experimentFlags, sf slurmFlags) error {
	if f.dir == "" {
		return usagef("--dir is required: the experiment directory, on a file system every node sees")
	}
	if !f.fs.Changed("shards") {
		return usagef("--shards is required: the number of array tasks (at most the experiment's runs)")
	}
	if err := f.checkExecution(); err != nil {
		return err
	}
	if sf.wait && !sf.submit {
		return usagef("--wait waits for the tasks --submit submits: give --submit too, or leave --wait out")
	}
	// Everything the flags can get wrong is checked before the experiment
	// directory is made or its spec recorded.
	var abs, bin, wd, data string
	dir, _, runs, err := f.prepare(func(dir string, runs []experiment.Run) error {
		if sf.shards < 1 || sf.shards > len(runs) {
			return usagef("--shards %d: want 1 to %d (the experiment's runs)", sf.shards, len(runs))
		}
		if sf.cpus < 1 || sf.cpus > train.MaxThreads {
			return usagef("--cpus-per-task %d: want 1 to %d", sf.cpus, train.MaxThreads)
		}
		if err := sf.check(); err != nil {
			return err
		}
		var err error
		if abs, err = filepath.Abs(dir); err != nil {
			return err
		}
		// The directory goes into #SBATCH lines, which sbatch reads with its
		// own quoting (a backslash escapes even inside quotes) and where '%'
		// starts a file-name pattern: such paths are refused, not mangled.
		if err := scriptPath("--dir", abs, `\%`); err != nil {
			return err
		}
		bin = sf.binary
		if bin == "" {
			if bin, err = os.Executable(); err != nil {
				return fmt.Errorf("the path of cifarnet: %w (pass --binary)", err)
			}
		}
		if err := scriptPath("--binary", bin, ""); err != nil {
			return err
		}
		if wd, err = os.Getwd(); err != nil {
			return fmt.Errorf("the working directory: %w", err)
		}
		if err := scriptPath("the working directory", wd, ""); err != nil {
			return err
		}
		if f.data.path != "" {
			p, err := filepath.Abs(f.data.path)
			if err != nil {
				return err
			}
			if err := scriptPath("--data", p, ""); err != nil {
				return err
			}
			data = " --data " + shellQuote(p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer f.use.Release()
	if f.data.offline {
		data += " --offline"
	}
	// --threads goes on to each task (it changes no result, so the spec
	// does not hold it).
	if f.fs.Changed("threads") {
		data += fmt.Sprintf(" --threads %d", f.cfg.Threads)
	}
	if f.fs.Changed("backup-and-restore") {
		data += " --backup-and-restore " + shellQuote(f.backup.String())
	}
	if err := os.MkdirAll(filepath.Join(abs, experiment.SlurmDir), 0o755); err != nil {
		return err
	}
	script := filepath.Join(abs, SlurmScript)
	var b bytes.Buffer
	err = sbatchTemplate.Execute(&b, map[string]any{
		"Dir": shellQuote(abs), "Shards": sf.shards, "Last": sf.shards - 1, "CPUs": sf.cpus, "Mem": sf.mem,
		"Time": sf.time, "Partition": sf.partition, "Workdir": shellQuote(wd), "Binary": shellQuote(bin),
		"Data": data, "Script": shellQuote(script),
	})
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(script, b.Bytes(), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s in %s\n", script, report.Count(len(runs), "run"), report.Count(sf.shards, "array task"))
	if !sf.submit {
		fmt.Fprintf(stdout, "submit with: sbatch %s\nthen: cifarnet experiment collect %s\n", shellQuote(script), shellQuote(dir))
		return nil
	}
	args := []string{"--parsable"}
	if sf.wait {
		args = append(args, "--wait")
	}
	c := exec.Command("sbatch", append(args, script)...)
	c.Stderr = os.Stderr
	out, err := c.StdoutPipe()
	if err != nil {
		return err
	}
	if err := c.Start(); err != nil {
		return fmt.Errorf("sbatch %s: %w", script, err)
	}
	// --parsable prints "jobid" or "jobid;cluster" at submission, before
	// --wait waits: say it then, with how to follow the tasks (sbatch's
	// bare number told a user nothing).
	sc := bufio.NewScanner(io.LimitReader(out, 4096))
	if sc.Scan() {
		id, _, _ := strings.Cut(strings.TrimSpace(sc.Text()), ";")
		id = quote.Line(id, 40)
		fmt.Fprintf(stdout, "submitted job array %s: 'squeue -j %s' shows its tasks, their output is in %s\n", id, id, filepath.Join(dir, experiment.SlurmDir))
	}
	io.Copy(io.Discard, out)
	if err := c.Wait(); err != nil {
		return fmt.Errorf("sbatch %s: %w", script, err)
	}
	if sf.wait {
		fmt.Fprintf(stdout, "every task has ended; collect with: cifarnet experiment collect %s\n", shellQuote(dir))
	} else {
		fmt.Fprintf(stdout, "when every task has ended: cifarnet experiment collect %s\n", shellQuote(dir))
	}
	return nil
}

// Slurm's forms of the values that go into #SBATCH lines as they are
// (sbatch's --mem, --time and --partition).
var (
	slurmMem       = regexp.MustCompile(`^[0-9]+[KMGT]?$`)
	slurmTime      = regexp.MustCompile(`^([0-9]+-[0-9]+(:[0-9]+){0,2}|[0-9]+(:[0-9]+){0,2}|UNLIMITED|unlimited|INFINITE|infinite)$`)
	slurmPartition = regexp.MustCompile(`^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$`)
)

// check refuses a resource value that is not in Slurm's form: written into
// the script as it is, a newline or a quote in one would be a line of
// shell of the user's (or an attacker's) making.
func (sf slurmFlags) check() error {
	for _, v := range []struct {
		flag, value, want string
		re                *regexp.Regexp
	}{
		{"--mem", sf.mem, "a size in megabytes, or with a suffix K, M, G or T (e.g. 2G)", slurmMem},
		{"--time", sf.time, "minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (e.g. 01:00:00)", slurmTime},
		{"--partition", sf.partition, "partition names (letters, digits, '_', '.', '-'), comma-separated", slurmPartition},
	} {
		if v.value == "" && v.flag == "--partition" {
			continue
		}
		if !v.re.MatchString(v.value) {
			return usagef("%s %s: want %s", v.flag, quote.Short(v.value), v.want)
		}
	}
	return nil
}

// scriptPath refuses a path that the script could not carry as one word:
// one with a control character (a newline would end a comment or a
// command and start a line of the path's making), or with one of bad.
func scriptPath(what, p, bad string) error {
	if i := strings.IndexFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f || strings.ContainsRune(bad, r) }); i >= 0 {
		return usagef("%s %s: holds %q, which a Slurm script cannot carry safely; use a path without it", what, quote.Short(p), p[i:i+1])
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
