// Package experiment makes many runs: every configuration of a grid over
// train settings, each with many seeds, each run once into its own run
// directory (named by a hash of its configuration and seed) under the
// experiment directory, so that rerunning or extending an experiment skips
// the finished runs and continues the interrupted ones; then the
// statistics, summary.csv, runs.csv, experiment.json, the figures and
// report.html (report.WriteExperiment). A run list can be split into
// disjoint shards (a Slurm job array, a Kubernetes Indexed Job) that never
// write the same file; Collect aggregates what they wrote.
package experiment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/internal/finitejson"
	"github.com/cifarnet/cifarnet/internal/lockfile"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/quote"
	"github.com/cifarnet/cifarnet/internal/regular"
	"github.com/cifarnet/cifarnet/internal/suggest"
	"github.com/cifarnet/cifarnet/report"
)

// Spec is an experiment: a base configuration (train settings by their
// flag names, e.g. "epochs" = "3"), the settings it varies and the seeds.
// It is what a user keeps under version control (a TOML file) and what
// spec.json in the experiment directory records.
type Spec struct {
	// Base holds the settings every run shares, beyond train's defaults.
	Base []Setting `json:"base"`
	// Configs are named configurations, each the base with its own
	// settings (which replace the base's value of a setting both give),
	// when the configurations compared are not a grid (elu with
	// he_normal, selu with lecun_normal and standardized inputs, ...).
	// Each is crossed with the grid; none means the base alone.
	Configs []NamedConfig `json:"configs,omitempty"`
	// Grid holds the varied settings; every combination of their values
	// is a configuration (the first setting varies slowest).
	Grid []Axis `json:"grid"`
	// Seeds are the seeds every configuration runs with.
	Seeds []uint64 `json:"seeds"`
	// Baseline is the configuration the others are compared with, by its
	// label ("activation=elu", a named configuration's name, or its name
	// and the grid's values: "selu lr=0.001"); "" is the first.
	Baseline string `json:"baseline,omitempty"`
	// NamedSeed is the seed whose run is placed among its configuration's
	// (the exercise's single run: 42).
	NamedSeed uint64 `json:"named_seed"`
	// NamedSeedGiven says that a spec file gave NamedSeed (named_seed)
	// rather than leaving the default: one given must be among the seeds
	// (the command checks it once the seeds are final: --seeds replaces
	// the file's); the default need not be (seeds 0-29 leave 42 out).
	NamedSeedGiven bool `json:"-"`
	// Workdir is the directory the experiment began in, which relative
	// file paths in its settings are relative to, and Files the SHA-256
	// of each file a setting names, by the path as given (see Pin).
	Workdir string            `json:"workdir,omitempty"`
	Files   map[string]string `json:"files,omitempty"`
	// Data are the SHA-256 of the data the runs were trained on, as each
	// run's metrics.json has it, recorded by the first command to train
	// them (see recordData); an experiment recorded before has none.
	Data []DataSum `json:"data_sha256,omitempty"`

	sums map[string]string // the files' SHA-256 as this process read them, by path
}

// Setting is one train setting, by its flag name, and its value as the
// flag takes it.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// NamedConfig is a configuration given by name: the base with Settings.
type NamedConfig struct {
	Name     string    `json:"name"`
	Settings []Setting `json:"settings"`
}

// NameFactor is the factor that names a run's named configuration in the
// report, summary.csv and runs.csv.
const NameFactor = "name"

// maxName bounds a configuration's name.
const maxName = 64

// checkName refuses a configuration's name that is empty, long, or holds
// anything but letters, digits and . _ + - (a label joins a name and the
// grid's setting=value pairs with spaces).
func checkName(name string) error {
	if name == "" {
		return errors.New("config: a configuration without a name (give each a name, e.g. name = \"selu\")")
	}
	if len(name) > maxName || strings.IndexFunc(name, func(r rune) bool {
		return !(r == '.' || r == '_' || r == '+' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) >= 0 {
		return fmt.Errorf("config %s: a name of 1 to %d letters, digits, '.', '_', '+' or '-' (e.g. selu, bn+dropout)", quote.Short(name), maxName)
	}
	return nil
}

// ParseConfig reads a --config flag: "selu: activation=selu;
// init=lecun_normal" (';' separates the settings, so that a value may hold
// commas: hidden=512,256), or a name alone for the base as it is.
func ParseConfig(s string) (NamedConfig, error) {
	name, rest, _ := strings.Cut(s, ":")
	c := NamedConfig{Name: strings.TrimSpace(name), Settings: []Setting{}}
	if c.Name == "" {
		return c, fmt.Errorf("config %s: want NAME or NAME: SETTING=VALUE; SETTING=VALUE (e.g. \"selu: activation=selu; init=lecun_normal\")", quote.Short(s))
	}
	for _, part := range strings.Split(rest, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return c, fmt.Errorf("config %s: %s is not SETTING=VALUE (settings are separated by ';', e.g. \"selu: activation=selu; init=lecun_normal\")", c.Name, quote.Short(part))
		}
		v = strings.TrimSpace(v)
		// "optimizer=sgd, momentum=0.9" would reach --optimizer whole, whose
		// error ("sgd, momentum=0.9": want one of ...) hides the mistake.
		if i := nextSetting(v); i >= 0 {
			return c, fmt.Errorf("config %s: %s: ';' separates a configuration's settings, not ',' (e.g. %s)", c.Name, quote.Short(part),
				quote.Short(c.Name+": "+k+"="+strings.TrimSpace(v[:i])+"; "+strings.TrimSpace(v[i+1:])))
		}
		c.Settings = append(c.Settings, Setting{settingName(k), v})
	}
	return c, nil
}

// nextSetting returns the index of a ',' in a setting's value that is
// followed by what looks like another setting (", momentum=0.9"), outside
// parentheses and brackets (a layer's arguments may be named), or -1.
func nextSetting(v string) int {
	depth := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case ',':
			if depth != 0 {
				continue
			}
			k, _, ok := strings.Cut(v[i+1:], "=")
			if k = strings.TrimSpace(k); ok && k != "" && k[0] >= 'a' && k[0] <= 'z' && strings.IndexFunc(k, func(r rune) bool {
				return !(r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'))
			}) < 0 {
				return i
			}
		}
	}
	return -1
}

// settingName is a setting's name as its flag spells it: a spec file's
// keys follow TOML's habit (train_samples, as named_seed), the flags
// train's (--train-samples), and either spelling is taken for the other.
// Normalized, both give the same spec.json, run directories and default
// experiment directory. No flag's name holds '_'.
func settingName(name string) string { return strings.ReplaceAll(name, "_", "-") }

// Axis is a varied setting and its values.
type Axis struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// SpecFile is the spec's name in the experiment directory.
const SpecFile = "spec.json"

// DefaultNamedSeed is the exercise's seed.
const DefaultNamedSeed = 42

// MaxRuns bounds an experiment's runs (configurations times seeds), and so
// its seeds: far beyond what one can train, small enough that planning
// them takes well under a second and a few tens of megabytes.
const MaxRuns = 100000

// ParseSeeds reads "0-29", "1,2,5" or "0-9,42" (at most MaxRuns seeds).
func ParseSeeds(s string) ([]uint64, error) {
	var seeds []uint64
	seen := map[uint64]bool{}
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("seeds %q: no seeds (want a range, a list or both, e.g. 0-29 or 0-9,42)", s)
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("seeds %q: %q is not a seed or a range like 0-29", s, part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 64); err != nil {
				return nil, fmt.Errorf("seeds %q: %q is not a range like 0-29", s, part)
			}
			if b < a {
				return nil, fmt.Errorf("seeds %q: the range %s is reversed (did you mean %d-%d?)", s, part, b, a)
			}
		}
		if b-a >= MaxRuns || len(seeds)+int(b-a+1) > MaxRuns {
			return nil, fmt.Errorf("seeds %q: more than %d seeds", s, MaxRuns)
		}
		for v := a; ; v++ {
			if seen[v] {
				return nil, fmt.Errorf("seeds %q: seed %d twice", s, v)
			}
			seen[v] = true
			seeds = append(seeds, v)
			if v == b {
				break
			}
		}
	}
	return seeds, nil
}

// FormatSeeds says seeds as --seeds takes them: "0-29", "0-9,42"; past
// six runs of consecutive seeds, "..." and how many in all.
func FormatSeeds(seeds []uint64) string {
	var parts []string
	for i := 0; i < len(seeds); {
		j := i
		for j+1 < len(seeds) && seeds[j+1] == seeds[j]+1 {
			j++
		}
		if len(parts) == 6 {
			return strings.Join(parts, ",") + fmt.Sprintf(",... (%d seeds)", len(seeds))
		}
		part := strconv.FormatUint(seeds[i], 10)
		if j > i {
			part += "-" + strconv.FormatUint(seeds[j], 10)
		}
		parts = append(parts, part)
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// ParseAxis reads a grid flag: "activation=elu,relu,selu".
func ParseAxis(s string) (Axis, error) {
	name, values, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return Axis{}, fmt.Errorf("grid %q: want SETTING=VALUE,VALUE,... (e.g. activation=elu,relu)", s)
	}
	var a Axis
	a.Name = settingName(name)
	// A value may itself hold commas (hidden=256,256): ";" separates
	// values when present.
	sep := ","
	if strings.Contains(values, ";") {
		sep = ";"
	}
	if strings.TrimSpace(values) == "" {
		return a, nil // no values: Check names the setting
	}
	for _, v := range strings.Split(values, sep) {
		if v = strings.TrimSpace(v); v == "" {
			return Axis{}, fmt.Errorf("grid %q: an empty value (two %q in a row, or one at an end): want SETTING=VALUE,VALUE,...", s, sep)
		}
		// "dense(64, elu), batchnorm" split at its commas: the layer
		// parser's error about "dense(64" would not say why.
		if sep == "," && !balanced(v) {
			return Axis{}, fmt.Errorf("grid %s: %s, cut at a comma, has unbalanced brackets: values that hold commas are separated by \";\" (e.g. layers=dense(64, elu), batchnorm;dense(32, elu))", quote.Short(s), quote.Short(v))
		}
		a.Values = append(a.Values, v)
	}
	return a, nil
}

// balanced tells whether v closes every parenthesis and bracket it opens.
func balanced(v string) bool {
	depth := 0
	for _, c := range v {
		switch c {
		case '(', '[':
			depth++
		case ')', ']':
			if depth--; depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

// SeedSettingError is a seed given as a setting (of the base, the grid or
// a configuration) rather than in the experiment's seeds, which
// every configuration runs alike.
type SeedSettingError struct {
	At string // "base seed", "grid seed" or "config NAME: seed"
}

func (e *SeedSettingError) Error() string {
	return e.At + ": seeds are the experiment's seeds (spec: seeds), the same for every configuration, not a setting"
}

// Check reports what is wrong with the spec's shape (settings are checked
// by Plan, which applies them).
func (s *Spec) Check() error {
	if len(s.Seeds) == 0 {
		return errors.New("no seeds (e.g. 0-29)")
	}
	// As ParseSeeds checks them: a spec.json's seeds too (a seed twice
	// would count one run's numbers twice in the statistics).
	if len(s.Seeds) > MaxRuns {
		return fmt.Errorf("seeds: more than %d", MaxRuns)
	}
	seeds := map[uint64]bool{}
	for _, v := range s.Seeds {
		if seeds[v] {
			return fmt.Errorf("seeds: seed %d twice", v)
		}
		seeds[v] = true
	}
	if err := s.checkData(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, b := range s.Base {
		if err := checkSetting("base", b.Name, b.Value); err != nil {
			return err
		}
		if seen[b.Name] {
			return fmt.Errorf("base %s: the setting is given twice (in the spec file and as a flag?)", b.Name)
		}
		seen[b.Name] = true
	}
	for _, a := range s.Grid {
		if err := checkSetting("grid", a.Name, ""); err != nil {
			return err
		}
		for _, v := range a.Values {
			if err := checkSetting("grid", a.Name, v); err != nil {
				return err
			}
		}
		if len(a.Values) == 0 {
			return fmt.Errorf("grid %s: no values", a.Name)
		}
		if seen[a.Name] {
			return fmt.Errorf("grid %s: the setting is given twice (in the base or the grid)", a.Name)
		}
		seen[a.Name] = true
		if len(a.Values) > MaxRuns {
			return fmt.Errorf("grid %s: %d values, more than an experiment's %d runs", a.Name, len(a.Values), MaxRuns)
		}
		values := map[string]bool{}
		for _, v := range a.Values {
			if values[v] {
				return fmt.Errorf("grid %s: value %s twice", a.Name, quote.Short(v))
			}
			values[v] = true
		}
		if a.Name == "seed" {
			return &SeedSettingError{At: "grid seed"}
		}
	}
	for _, b := range s.Base {
		if b.Name == "seed" {
			return &SeedSettingError{At: "base seed"}
		}
	}
	return s.checkConfigs()
}

// checkConfigs checks the named configurations' shape: names, settings,
// and no setting the grid varies.
func (s *Spec) checkConfigs() error {
	if s.Configs == nil {
		return nil
	}
	if len(s.Configs) == 0 {
		return errors.New("config: an empty list of configurations (give one [[config]] table for each, or none for the base alone)")
	}
	if len(s.Configs) > MaxRuns {
		return fmt.Errorf("config: %d configurations, more than an experiment's %d runs", len(s.Configs), MaxRuns)
	}
	grid := map[string]bool{}
	for _, a := range s.Grid {
		grid[a.Name] = true
	}
	names := map[string]bool{}
	for _, c := range s.Configs {
		if err := checkName(c.Name); err != nil {
			return err
		}
		if names[c.Name] {
			return fmt.Errorf("config %s: the name is given twice (each configuration needs its own)", c.Name)
		}
		names[c.Name] = true
		where := "config " + c.Name
		set := map[string]bool{}
		for _, st := range c.Settings {
			if err := checkSetting(where, st.Name, st.Value); err != nil {
				return err
			}
			switch {
			case set[st.Name]:
				return fmt.Errorf("%s: %s is given twice", where, st.Name)
			case st.Name == "seed":
				return &SeedSettingError{At: where + ": seed"}
			case grid[st.Name]:
				return fmt.Errorf("%s: sets %s, which the grid varies (each configuration is crossed with the grid): take %s out of one of them", where, st.Name, st.Name)
			}
			set[st.Name] = true
		}
	}
	return nil
}

// maxValue bounds a setting's value (a --layers short form of a thousand
// layers fits).
const maxValue = 64 << 10

// checkSetting refuses a setting's name that is not a flag's name, and a
// value with a control character (a newline in a value would make a
// one-line error two lines, and a NUL reaches no flag honestly) or longer
// than maxValue: they are refused here, quoted short, before any flag
// parser sees them.
func checkSetting(where, name, value string) error {
	if name == "" || len(name) > 64 || name[0] < 'a' || name[0] > 'z' || strings.IndexFunc(name, func(r rune) bool {
		return !(r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'))
	}) >= 0 {
		return fmt.Errorf("%s setting %s: not a setting's name (a flag of 'cifarnet train', e.g. activation, lr, epochs)", where, quote.Short(name))
	}
	if len(value) > maxValue {
		return fmt.Errorf("%s %s: a value of %d bytes, more than the %d a setting takes", where, name, len(value), maxValue)
	}
	if strings.IndexFunc(value, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return fmt.Errorf("%s %s: value %s holds a control character", where, name, quote.Short(value))
	}
	return nil
}

// Sizes the readers accept: a spec file is written by hand; spec.json
// holds up to MaxRuns seeds, one a line.
const (
	maxSpecFile = 1 << 20
	maxSpecJSON = 16 << 20
	// maxNesting bounds the nesting of a spec file's arrays and inline
	// tables: a spec needs two levels (hidden = [[256, 256], [512]]);
	// the TOML parser recurses, and a megabyte of '[' took it gigabytes.
	maxNesting = 8
)

// ReadSpecFile reads a spec from a TOML file:
//
//	seeds = "0-29"          # or [0, 1, 2]
//	baseline = "activation=elu"
//	named_seed = 42
//	[base]                  # train settings by flag name
//	epochs = 20
//	train-samples = 5000
//	[grid]                  # each combination is a configuration
//	activation = ["elu", "relu", "selu"]
//	lr = [1e-3, 3e-4]
//	[[config]]              # named configurations, each crossed with the grid
//	name = "bn"
//	layers = "dense(256, elu, he_normal), batchnorm"
//
// In every key '_' and '-' are the same (named-seed, train_samples), so
// that neither TOML's habit nor the flags' is a mistake. Unknown keys are
// errors, so that a typo does not silently run the default instead.
func ReadSpecFile(path string) (*Spec, error) {
	b, err := regular.ReadFile(path, maxSpecFile)
	if err != nil {
		return nil, fmt.Errorf("spec %s: %w", path, oserr.Bare(err))
	}
	if err := checkNesting(b); err != nil {
		return nil, fmt.Errorf("spec %s: %v", path, err)
	}
	var raw map[string]any
	md, err := toml.Decode(string(b), &raw)
	if err != nil {
		what := ""
		if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" || ext == ".json" {
			// The parser's "expected '=' but got ':'" alone does not say
			// which language it expected.
			what = "spec files are TOML, not " + strings.ToUpper(ext[1:]) + ": "
		}
		return nil, fmt.Errorf("spec %s: %s%s", path, what, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	_ = md
	s := &Spec{NamedSeed: DefaultNamedSeed}
	given := map[string]string{} // the keys read, as spelled, by their canonical name
	for _, k := range sortedKeys(raw) {
		v := raw[k]
		key := strings.ReplaceAll(k, "-", "_")
		if other, ok := given[key]; ok {
			return nil, fmt.Errorf("spec %s: %s and %s are the same key, given twice", path, other, k)
		}
		given[key] = k
		switch key {
		case "seeds":
			switch x := v.(type) {
			case string:
				if s.Seeds, err = ParseSeeds(x); err != nil {
					return nil, fmt.Errorf("spec %s: %v", path, err)
				}
			case []any:
				var parts []string
				for _, e := range x {
					parts = append(parts, value(e))
				}
				if s.Seeds, err = ParseSeeds(strings.Join(parts, ",")); err != nil {
					return nil, fmt.Errorf("spec %s: %v", path, err)
				}
			default:
				return nil, fmt.Errorf("spec %s: seeds: want \"0-29\" or a list of seeds", path)
			}
		case "baseline":
			x, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("spec %s: baseline: want a configuration's label, e.g. \"activation=elu\"", path)
			}
			s.Baseline = x
		case "named_seed":
			x, ok := v.(int64)
			if !ok || x < 0 {
				return nil, fmt.Errorf("spec %s: named_seed: want a seed", path)
			}
			s.NamedSeed, s.NamedSeedGiven = uint64(x), true
		case "base":
			t, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("spec %s: base: want a table of train settings", path)
			}
			for _, name := range sortedKeys(t) {
				if _, isList := t[name].([]any); isList && settingName(name) != "hidden" {
					return nil, fmt.Errorf("spec %s: base.%s: a list (put varied settings under [grid])", path, name)
				}
				s.Base = append(s.Base, Setting{settingName(name), value(t[name])})
			}
			sortSettings(s.Base)
		case "config":
			if s.Configs, err = readConfigs(v); err != nil {
				return nil, fmt.Errorf("spec %s: %v", path, err)
			}
		case "grid":
			t, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("spec %s: grid: want a table of settings and their lists of values", path)
			}
			for _, name := range tableOrder(md, t, "grid") {
				list, ok := t[name].([]any)
				if !ok {
					return nil, fmt.Errorf("spec %s: grid.%s: want a list of values", path, name)
				}
				a := Axis{Name: settingName(name)}
				for _, e := range list {
					a.Values = append(a.Values, value(e))
				}
				s.Grid = append(s.Grid, a)
			}
		default:
			mean := ""
			if m := suggest.Closest(k, specKeys); m != "" {
				mean = "did you mean " + m + "? "
			}
			return nil, fmt.Errorf("spec %s: unknown key %s (%swant seeds, baseline, named_seed, [base], [grid], [[config]])", path, quote.Short(k), mean)
		}
	}
	return s, nil
}

// specKeys are the keys of a spec file's top level.
var specKeys = []string{"seeds", "baseline", "named_seed", "base", "grid", "config"}

// sortSettings orders settings by name, as a spec file's table is read:
// by the names normalized, so that train_samples and train-samples give
// the same spec.
func sortSettings(ss []Setting) {
	slices.SortStableFunc(ss, func(a, b Setting) int { return strings.Compare(a.Name, b.Name) })
}

// readConfigs reads the [[config]] tables: each a name and settings.
func readConfigs(v any) ([]NamedConfig, error) {
	var tables []map[string]any
	switch x := v.(type) {
	case []map[string]any:
		tables = x
	case []any: // config = [] or [{...}, ...]
		for _, e := range x {
			t, ok := e.(map[string]any)
			if !ok {
				return nil, errors.New("config: want [[config]] tables, each with a name and its settings")
			}
			tables = append(tables, t)
		}
	default:
		return nil, errors.New("config: want [[config]] tables, each with a name and its settings")
	}
	configs := []NamedConfig{}
	for i, t := range tables {
		name, ok := t["name"].(string)
		if !ok {
			return nil, fmt.Errorf("config %d: want name = \"...\" (a string) in each [[config]]", i+1)
		}
		c := NamedConfig{Name: name, Settings: []Setting{}}
		for _, k := range sortedKeys(t) {
			if k == "name" {
				continue
			}
			if _, isList := t[k].([]any); isList && settingName(k) != "hidden" {
				return nil, fmt.Errorf("config %s: %s: a list (a configuration gives one value; put varied settings under [grid])", quote.Short(name), k)
			}
			c.Settings = append(c.Settings, Setting{settingName(k), value(t[k])})
		}
		sortSettings(c.Settings)
		configs = append(configs, c)
	}
	return configs, nil
}

// checkNesting refuses TOML whose arrays or inline tables nest more than
// maxNesting deep, skipping strings and comments, before the recursive
// parser sees it. Table headers ([grid], [[x]]) close on their line.
func checkNesting(b []byte) error {
	depth, line := 0, 1
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '\n':
			line++
		case '#':
			for i < len(b) && b[i] != '\n' {
				i++
			}
			i--
		case '"', '\'':
			delim := []byte{c}
			if i+2 < len(b) && b[i+1] == c && b[i+2] == c {
				delim = []byte{c, c, c}
			}
			i += len(delim)
			for i < len(b) && !bytes.HasPrefix(b[i:], delim) {
				if b[i] == '\\' && c == '"' {
					i++
				} else if b[i] == '\n' {
					line++
				}
				i++
			}
			i += len(delim) - 1
		case '[', '{':
			if depth++; depth > maxNesting {
				return fmt.Errorf("line %d: arrays or tables nested more than %d deep", line, maxNesting)
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return nil
}

// tableOrder returns the keys of a table in the file's order.
func tableOrder(md toml.MetaData, t map[string]any, table string) []string {
	var keys []string
	for _, k := range md.Keys() {
		if len(k) == 2 && k[0] == table {
			keys = append(keys, k[1])
		}
	}
	if len(keys) != len(t) {
		return sortedKeys(t)
	}
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// value writes a TOML value as a flag takes it.
func value(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if math.Trunc(x) == x && math.Abs(x) < 1e15 {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []any: // hidden = [256, 256]
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = value(e)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// RecordSpec records s in dir/spec.json, or checks that the one there is
// the same experiment: the same base settings once applied by apply (in
// any order, 0.001 or 1e-3), and every run of it that began (has its
// directory) still among runs, s's runs as Plan gives them, so that the
// grid and the seeds may grow but a rerun never drops runs from the
// experiment's statistics or replaces it by another. An experiment none
// of whose runs began, and that no other command is using, is replaced.
// A directory holding files and no spec.json is refused: it is not an
// experiment's.
//
// The check and the record are one step across processes (LockFile), and
// the returned Use, held until the command ends, tells a later command
// that this one is using the experiment: two commands started together
// on a new directory never both record theirs.
func RecordSpec(dir string, s *Spec, runs []Run, apply Apply) (*Use, error) {
	// Before anything is created in a directory that is not an experiment's.
	if err := checkExperimentDir(dir); err != nil {
		return nil, err
	}
	lock, err := lockfile.Block(filepath.Join(dir, LockFile))
	if err != nil {
		return nil, fmt.Errorf("experiment %s: %w", dir, oserr.Bare(err))
	}
	defer lock.Unlock()
	u, live, err := use(dir)
	if err != nil {
		return nil, err
	}
	if err := recordSpec(dir, s, runs, apply, live); err != nil {
		u.Release()
		return nil, err
	}
	return u, nil
}

// recordSpec is RecordSpec once the spec is locked; live says that
// another command is using the experiment recorded.
func recordSpec(dir string, s *Spec, runs []Run, apply Apply, live bool) error {
	path := filepath.Join(dir, SpecFile)
	rec := *s
	rec.Data = nil
	b, err := regular.ReadFile(path, maxSpecJSON)
	if err == nil {
		var old Spec
		if err := json.Unmarshal(b, &old); err != nil {
			return fmt.Errorf("experiment %s: %s: %v", dir, SpecFile, err)
		}
		// An experiment none of whose runs began (its command failed
		// before, or was stopped) and that no command is using holds
		// nothing to keep: the new spec replaces it.
		if ents, err := os.ReadDir(filepath.Join(dir, RunsDir)); live || !(errors.Is(err, os.ErrNotExist) || err == nil && len(ents) == 0) {
			if err := sameExperiment(dir, &old, s, runs, apply, live); err != nil {
				return err
			}
			rec.Data = old.Data // the data its runs were trained on
		}
		if bytes.Equal(b, mustJSON(&rec)) {
			return nil
		}
		// The same experiment run from another directory, its files of the
		// content recorded: the record stands.
		same := rec
		same.Workdir = old.Workdir
		if old.Workdir != "" && bytes.Equal(b, mustJSON(&same)) {
			return nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("experiment %s: %s: %w", dir, SpecFile, oserr.Bare(err))
	}
	return atomicfile.WriteFile(path, mustJSON(&rec), 0o644)
}

// sameExperiment checks that s continues old, the experiment recorded in
// dir (see RecordSpec); while another command is using it (live), every
// run of old counts as begun.
func sameExperiment(dir string, old, s *Spec, newRuns []Run, apply Apply, live bool) error {
	oc, err1 := old.withFiles(apply)(old.Base)
	var changed *FileChangedError
	if errors.As(err1, &changed) {
		return &SpecError{Dir: dir, Changed: changed}
	}
	nc, err2 := s.withFiles(apply)(s.Base)
	if err1 != nil || err2 != nil || Hash(oc) != Hash(nc) {
		return &SpecError{Dir: dir, Old: old.Base, New: s.Base}
	}
	oldRuns, err := planRuns(dir, old, apply, false)
	if errors.As(err, &changed) {
		return &SpecError{Dir: dir, Changed: changed}
	}
	if err != nil {
		return &SpecError{Dir: dir, Old: old.Base, New: s.Base, Left: "its recorded runs, which this version cannot plan (" + err.Error() + ")"}
	}
	planned := map[string]bool{}
	for _, r := range newRuns {
		planned[r.Dir] = true
	}
	// The runs left out, by configuration, in the recorded order.
	var labels []string
	left := map[string][]uint64{}
	total := map[string]int{}
	n := 0
	for _, r := range oldRuns {
		total[r.Label]++
		if planned[r.Dir] {
			continue
		}
		if _, err := os.Lstat(r.Dir); errors.Is(err, os.ErrNotExist) && !live {
			continue // never began: nothing of it to keep
		}
		if left[r.Label] == nil {
			labels = append(labels, r.Label)
		}
		left[r.Label] = append(left[r.Label], r.Seed)
		n++
	}
	if n == 0 {
		return nil
	}
	var parts []string
	for i, l := range labels {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d more", len(labels)-3))
			break
		}
		if len(left[l]) == total[l] {
			parts = append(parts, "configuration "+l)
		} else {
			parts = append(parts, fmt.Sprintf("seed%s %s of %s", plural(len(left[l])), FormatSeeds(left[l]), l))
		}
	}
	return &SpecError{Dir: dir, Old: old.Base, New: s.Base, Left: fmt.Sprintf("%d of its %s: %s", n, report.Count(len(oldRuns), "run"), strings.Join(parts, ", "))}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// SpecError is an experiment directory that holds another experiment.
type SpecError struct {
	Dir      string
	Old, New []Setting
	// Left, if set, says which of the recorded experiment's runs the new
	// one leaves out (the base settings are the same).
	Left string
	// Changed, if set, is a file of the recorded experiment's settings
	// that is no longer what it was.
	Changed *FileChangedError
}

// Unwrap is the changed file, if that is what is wrong.
func (e *SpecError) Unwrap() error {
	if e.Changed == nil {
		return nil
	}
	return e.Changed
}

func (e *SpecError) Error() string {
	if e.Changed != nil {
		return fmt.Sprintf("experiment %s: %v", e.Dir, e.Changed)
	}
	if e.Left != "" {
		return fmt.Sprintf("experiment %s holds another experiment: this one leaves out %s; a rerun may add seeds and grid values but must keep every run there, so give them all or use another directory",
			e.Dir, e.Left)
	}
	return fmt.Sprintf("experiment %s holds another experiment (its base settings: %s; this command's: %s); use another directory",
		e.Dir, settingsString(e.Old), settingsString(e.New))
}

// settingsWords says settings as "epochs=20 activation=selu" ("" for none).
func settingsWords(ss []Setting) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.Name + "=" + s.Value
	}
	return strings.Join(parts, " ")
}

func settingsString(ss []Setting) string {
	if len(ss) == 0 {
		return "none"
	}
	return settingsWords(ss)
}

// ReadSpec reads an experiment directory's spec.json.
func ReadSpec(dir string) (*Spec, error) {
	b, err := regular.ReadFile(filepath.Join(dir, SpecFile), maxSpecJSON)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("experiment %s: no %s (not an experiment directory?): %w", dir, SpecFile, errors.Unwrap(err))
	}
	if err != nil {
		return nil, fmt.Errorf("experiment %s: %s: %w", dir, SpecFile, oserr.Bare(err))
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("experiment %s: %s: %s", dir, SpecFile, quote.Line(err.Error(), 4*quote.Max))
	}
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("experiment %s: %s: %v", dir, SpecFile, err)
	}
	return &s, nil
}

// checkData refuses recorded data no run can have trained on (an edited
// spec.json): a sample count below 1 or past a data set's, a SHA-256 that
// is not 64 lowercase hex digits, no data set named.
func (s *Spec) checkData() error {
	for i, d := range s.Data {
		bad := ""
		switch {
		case d.Data == "":
			bad = "no data set named"
		case d.TrainSamples < 1 || d.TrainSamples > maxSamples || d.TestSamples < 1 || d.TestSamples > maxSamples:
			bad = fmt.Sprintf("train_samples %d, test_samples %d: want 1 to %d", d.TrainSamples, d.TestSamples, maxSamples)
		case !isSHA256(d.SHA256):
			bad = fmt.Sprintf("sha256 %s: want 64 lowercase hex digits", quote.Short(d.SHA256))
		}
		if bad != "" {
			return fmt.Errorf("data_sha256[%d]: %s", i, bad)
		}
	}
	return nil
}

// maxSamples bounds a recorded sample count: more than any data set holds.
const maxSamples = 1 << 30

// isSHA256 tells whether s is a SHA-256 as hex.EncodeToString writes it.
func isSHA256(s string) bool { return isLowerHex(s, 64) }

// isLowerHex tells whether s is n lowercase hex digits, as
// hex.EncodeToString writes them.
func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func mustJSON(v any) []byte {
	b, err := finitejson.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}
