package experiment

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/report"
)

// TestGridDirsUnchanged: a grid experiment's run directories are those
// the code gave before named configurations existed (listed here from
// that code), so that an existing experiment directory resumes without
// training its runs again; and its spec.json has no configs member.
func TestGridDirsUnchanged(t *testing.T) {
	s := &Spec{Base: []Setting{{"epochs", "2"}}, Seeds: []uint64{0, 1},
		Grid: []Axis{{"activation", []string{"elu", "relu"}}, {"lr", []string{"0.001", "0.0003"}}}}
	runs, err := Plan("d", s, testApply)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"49b779fc816b1af2", "529852c38cc79214", "b41f3eda62e10aec", "0dac8b88e5f028c3",
		"0ef4b332b7f5a7ce", "7df0eede775b7141", "6aa23bada8f1025f", "51e5538bb94775ad"}
	for i, r := range runs {
		if r.Dir != filepath.Join("d", RunsDir, want[i]) {
			t.Errorf("run %d (%s seed %d): %s, want runs/%s", i, r.Label, r.Seed, r.Dir, want[i])
		}
		if len(r.Factors) != 2 || r.Factors[0].Name != "activation" {
			t.Errorf("run %d: factors %v", i, r.Factors)
		}
	}
	if b := mustJSON(s); strings.Contains(string(b), "configs") {
		t.Errorf("a grid experiment's spec.json holds configs:\n%s", b)
	}
}

// TestPlanNamedConfigs: named configurations, each the base with its own
// settings (replacing the base's), crossed with the grid, named in the
// labels and factors; a named configuration that is a grid's
// configuration has the grid's run directories.
func TestPlanNamedConfigs(t *testing.T) {
	s := &Spec{Base: []Setting{{"epochs", "2"}}, Seeds: []uint64{0, 1},
		Configs: []NamedConfig{
			{Name: "baseline"},
			{Name: "relu-64", Settings: []Setting{{"activation", "relu"}, {"hidden", "64"}}},
			{Name: "long", Settings: []Setting{{"epochs", "5"}}},
		},
		Grid: []Axis{{"lr", []string{"0.001", "0.0003"}}}}
	runs, err := Plan("d", s, testApply)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3*2*2 {
		t.Fatalf("%d runs, want 3 configurations x 2 grid values x 2 seeds", len(runs))
	}
	var labels []string
	for i := 0; i < len(runs); i += 2 {
		labels = append(labels, runs[i].Label)
	}
	if want := []string{"baseline lr=0.001", "baseline lr=0.0003", "relu-64 lr=0.001", "relu-64 lr=0.0003", "long lr=0.001", "long lr=0.0003"}; !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	if f := runs[6].Factors; !slices.Equal(f, []report.Factor{{Name: NameFactor, Value: "relu-64"}, {Name: "lr", Value: "0.0003"}}) {
		t.Errorf("factors %v", f)
	}
	if c := runs[6].Config; c.Activation != "relu" || !slices.Equal(c.Hidden, []int{64}) || c.LearningRate != 0.0003 || c.Epochs != 2 || c.Seed != 0 {
		t.Errorf("relu-64 lr=0.0003 seed 0: %+v", c)
	}
	if c := runs[8].Config; c.Epochs != 5 || c.Activation != "elu" {
		t.Errorf("long: epochs %d (the base's 2 replaced by 5?), activation %s", c.Epochs, c.Activation)
	}
	// The same configuration as a grid's: the same run directories.
	grid, err := Plan("d", &Spec{Base: []Setting{{"epochs", "2"}}, Seeds: []uint64{0, 1}, Grid: []Axis{{"lr", []string{"0.001", "0.0003"}}}}, testApply)
	if err != nil {
		t.Fatal(err)
	}
	for i := range grid {
		if runs[i].Dir != grid[i].Dir {
			t.Errorf("%s seed %d: %s, the grid's %s seed %d: %s", runs[i].Label, runs[i].Seed, runs[i].Dir, grid[i].Label, grid[i].Seed, grid[i].Dir)
		}
	}
	// Without a grid the label is the name.
	s.Grid = nil
	s.Baseline = "long"
	runs, err = Plan("d", s, testApply)
	if err != nil || runs[0].Label != "baseline" || runs[4].Label != "long" || len(runs[4].Factors) != 1 {
		t.Errorf("no grid: %v, labels %q %q", err, runs[0].Label, runs[4].Label)
	}
}

// TestNamedConfigsRefused: each bad list of named configurations is
// refused, saying what is wrong.
func TestNamedConfigsRefused(t *testing.T) {
	seeds := []uint64{0, 1}
	many := make([]NamedConfig, MaxRuns/2+1)
	for i := range many {
		many[i] = NamedConfig{Name: fmt.Sprintf("c%d", i), Settings: []Setting{{"epochs", fmt.Sprint(i + 1)}}}
	}
	for _, tt := range []struct {
		name    string
		configs []NamedConfig
		grid    []Axis
		base    string
		want    string
	}{
		{"duplicate names", []NamedConfig{{Name: "a"}, {Name: "a", Settings: []Setting{{"activation", "relu"}}}}, nil, "", "config a: the name is given twice"},
		{"unknown setting", []NamedConfig{{Name: "a", Settings: []Setting{{"activaton", "relu"}}}}, nil, "", `config a: unknown setting "activaton"`},
		{"identical", []NamedConfig{{Name: "a"}, {Name: "elu", Settings: []Setting{{"activation", "elu"}}}}, nil, "", "config elu: the same configuration as a"},
		{"identical crossed", []NamedConfig{{Name: "a", Settings: []Setting{{"epochs", "3"}}}, {Name: "b", Settings: []Setting{{"epochs", "3"}}}}, []Axis{{"lr", []string{"0.1"}}}, "", "config b lr=0.1: the same configuration as a lr=0.1"},
		{"identical grid values", nil, []Axis{{"lr", []string{"0.001", "1e-3"}}}, "", "grid lr=1e-3: the same configuration as lr=0.001"},
		{"empty list", []NamedConfig{}, nil, "", "config: an empty list"},
		{"no name", []NamedConfig{{Settings: []Setting{{"epochs", "3"}}}}, nil, "", "a configuration without a name"},
		{"bad name", []NamedConfig{{Name: "a b"}}, nil, "", `config "a b": a name of 1 to 64 letters`},
		{"long name", []NamedConfig{{Name: strings.Repeat("a", 65)}}, nil, "", "a name of 1 to 64"},
		{"seed", []NamedConfig{{Name: "a", Settings: []Setting{{"seed", "3"}}}}, nil, "", "config a: seed: seeds are the experiment's seeds (spec: seeds)"},
		{"grid's setting", []NamedConfig{{Name: "a", Settings: []Setting{{"lr", "0.1"}}}}, []Axis{{"lr", []string{"0.01"}}}, "", "config a: sets lr, which the grid varies"},
		{"twice", []NamedConfig{{Name: "a", Settings: []Setting{{"epochs", "3"}, {"epochs", "4"}}}}, nil, "", "config a: epochs is given twice"},
		{"control character", []NamedConfig{{Name: "a", Settings: []Setting{{"activation", "elu\n"}}}}, nil, "", "config a activation: value"},
		{"huge value", []NamedConfig{{Name: "a", Settings: []Setting{{"activation", strings.Repeat("x", maxValue+1)}}}}, nil, "", "more than the 65536 a setting takes"},
		{"too many runs", many, nil, "", "make more than 100000 runs"},
		{"baseline", []NamedConfig{{Name: "a"}, {Name: "b", Settings: []Setting{{"epochs", "3"}}}}, nil, "c", `baseline "c" is not one of the configurations (a, b)`},
	} {
		s := &Spec{Seeds: seeds, Configs: tt.configs, Grid: tt.grid, Baseline: tt.base}
		if tt.name == "too many runs" {
			s.Seeds = []uint64{0, 1, 2}
		}
		_, err := Plan("d", s, testApply)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line saying %q", tt.name, err, tt.want)
		}
	}
}

func TestParseConfig(t *testing.T) {
	for in, want := range map[string]NamedConfig{
		"selu: activation=selu; init=lecun_normal": {"selu", []Setting{{"activation", "selu"}, {"init", "lecun_normal"}}},
		"wide:hidden=512,256;":                     {"wide", []Setting{{"hidden", "512,256"}}},
		" base ":                                   {"base", nil},
		"bn: layers=dense(256, elu), batchnorm":    {"bn", []Setting{{"layers", "dense(256, elu), batchnorm"}}},
	} {
		got, err := ParseConfig(in)
		if err != nil || got.Name != want.Name || !slices.Equal(got.Settings, want.Settings) {
			t.Errorf("%q: %+v %v, want %+v", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"":                  "want NAME or NAME: SETTING=VALUE",
		": activation=selu": "want NAME or NAME: SETTING=VALUE",
		"selu: activation":  `config selu: "activation" is not SETTING=VALUE`,
		"selu: =selu":       `config selu: "=selu" is not SETTING=VALUE`,
		// ',' for ';': what follows looks like another setting.
		"s: optimizer=sgd, momentum=0.9":             `config s: "optimizer=sgd, momentum=0.9": ';' separates a configuration's settings, not ',' (e.g. "s: optimizer=sgd; momentum=0.9")`,
		"selu: a=b, init_x = 3;":                     `';' separates a configuration's settings`,
		"a: layers=dense(8, elu), dropout(rate=0.5)": "", // named inside a layer's arguments
		"a: hidden=512, 256":                         "",
	} {
		_, err := ParseConfig(in)
		if msg == "" {
			if err != nil {
				t.Errorf("%q: %v", in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: error %v, want %q", in, err, msg)
		}
	}
}

func TestReadSpecFileConfigs(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte(`seeds = "0-2"
baseline = "elu"
[base]
epochs = 20
[[config]]
name = "elu"
[[config]]
name = "selu"
init = "lecun_normal"
activation = "selu"
hidden = [128, 64]
[[config]]
name = "sgd"
optimizer = "sgd"
momentum = 0.9
nesterov = true
`), 0o644)
	s, err := ReadSpecFile(good)
	if err != nil {
		t.Fatal(err)
	}
	want := []NamedConfig{
		{"elu", []Setting{}},
		{"selu", []Setting{{"activation", "selu"}, {"hidden", "128,64"}, {"init", "lecun_normal"}}},
		{"sgd", []Setting{{"momentum", "0.9"}, {"nesterov", "true"}, {"optimizer", "sgd"}}},
	}
	if len(s.Configs) != len(want) {
		t.Fatalf("configs %+v", s.Configs)
	}
	for i := range want {
		if s.Configs[i].Name != want[i].Name || !slices.Equal(s.Configs[i].Settings, want[i].Settings) {
			t.Errorf("config %d: %+v, want %+v", i, s.Configs[i], want[i])
		}
	}
	if s.Baseline != "elu" || len(s.Seeds) != 3 {
		t.Errorf("spec %+v", s)
	}
	// spec.json keeps them, and reads back the same.
	b := mustJSON(s)
	var back Spec
	if err := json.Unmarshal(b, &back); err != nil || len(back.Configs) != 3 || back.Configs[1].Settings[2] != (Setting{"init", "lecun_normal"}) {
		t.Errorf("spec.json round trip: %v %+v", err, back.Configs)
	}
	for name, tt := range map[string]struct{ text, want string }{
		"empty":    {"seeds = \"0-1\"\nconfig = []\n", "config: an empty list"},
		"no name":  {"seeds = \"0-1\"\n[[config]]\nactivation = \"relu\"\n", "config 1: want name = "},
		"name int": {"seeds = \"0-1\"\n[[config]]\nname = 3\n", "config 1: want name = "},
		"list":     {"seeds = \"0-1\"\n[[config]]\nname = \"a\"\nactivation = [\"elu\", \"relu\"]\n", "config \"a\": activation: a list"},
		"scalar":   {"seeds = \"0-1\"\nconfig = \"a\"\n", "config: want [[config]] tables"},
		"typo":     {"seeds = \"0-1\"\n[[configs]]\nname = \"a\"\n", `unknown key "configs"`},
		"dup":      {"seeds = \"0-1\"\n[[config]]\nname = \"a\"\n[[config]]\nname = \"a\"\nepochs = 2\n", "config a: the name is given twice"},
	} {
		p := filepath.Join(dir, name+".toml")
		os.WriteFile(p, []byte(tt.text), 0o644)
		s, err := ReadSpecFile(p)
		if err == nil {
			err = s.Check()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", name, err, tt.want)
		}
	}
	// Inline tables are tables too.
	inline := filepath.Join(dir, "inline.toml")
	os.WriteFile(inline, []byte("seeds = \"0-1\"\nconfig = [{name = \"a\"}, {name = \"b\", epochs = 3}]\n"), 0o644)
	if s, err := ReadSpecFile(inline); err != nil || len(s.Configs) != 2 || s.Configs[1].Settings[0] != (Setting{"epochs", "3"}) {
		t.Errorf("inline tables: %v %+v", err, s)
	}
}

// TestDataSetNotVaried: configurations on different data sets (or
// CIFAR-100's label modes) are refused, by a grid or by named
// configurations: each data set has its own test set, so that their
// accuracies are no controlled comparison. One data set for all, given
// anywhere, is fine.
func TestDataSetNotVaried(t *testing.T) {
	seeds := []uint64{0}
	for name, s := range map[string]*Spec{
		"grid":        {Seeds: seeds, Grid: []Axis{{"dataset", []string{"cifar10", "mnist"}}}},
		"grid labels": {Seeds: seeds, Base: []Setting{{"dataset", "cifar100"}}, Grid: []Axis{{"label-mode", []string{"fine", "coarse"}}}},
		"configs":     {Seeds: seeds, Configs: []NamedConfig{{Name: "a", Settings: []Setting{{"lr", "0.1"}}}, {Name: "b", Settings: []Setting{{"dataset", "mnist"}}}}},
	} {
		_, err := Plan("d", s, testApply)
		if err == nil || !strings.Contains(err.Error(), "accuracies on different data sets are not a controlled comparison") || !strings.Contains(err.Error(), "run one experiment per data set") {
			t.Errorf("%s: %v, want a refusal saying to run one experiment per data set", name, err)
		}
		// Runs an earlier version trained that way are still reported.
		if _, _, err := PlanRecorded(t.TempDir(), s, testApply); err != nil {
			t.Errorf("%s: the report of such runs: %v", name, err)
		}
	}
	for name, s := range map[string]*Spec{
		"base":           {Seeds: seeds, Base: []Setting{{"dataset", "mnist"}}, Grid: []Axis{{"lr", []string{"0.1", "0.01"}}}},
		"one value":      {Seeds: seeds, Grid: []Axis{{"dataset", []string{"mnist"}}, {"lr", []string{"0.1", "0.01"}}}},
		"fine by either": {Seeds: seeds, Base: []Setting{{"dataset", "cifar100"}}, Configs: []NamedConfig{{Name: "a"}, {Name: "b", Settings: []Setting{{"label-mode", "fine"}, {"lr", "0.1"}}}}},
	} {
		if _, err := Plan("d", s, testApply); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestBaselineSpelling: a baseline written with the '_' spelling of a
// setting's name is the configuration of the '-' one, as the setting is.
func TestBaselineSpelling(t *testing.T) {
	s := &Spec{Seeds: []uint64{0}, Grid: []Axis{{"train-samples", []string{"1000", "2000"}}}, Baseline: "train_samples=2000"}
	if _, err := Plan("d", s, testApply); err != nil || s.Baseline != "train-samples=2000" {
		t.Errorf("baseline train_samples=2000: %v, baseline %q", err, s.Baseline)
	}
	s.Baseline = "train_samples=3000"
	if _, err := Plan("d", s, testApply); err == nil {
		t.Error("a baseline that is no configuration is taken")
	}
}
