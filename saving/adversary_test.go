package saving

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
)

// TestModelFactsChecked: model.json's facts about images and classes are
// checked against the network when the model is loaded, for predict,
// evaluate and export alike: three class names for ten outputs made
// predict name classes by number, a scale of 1e308 was exported (as an
// infinite float32), channels_first was ignored, and a class name with a
// terminal escape was printed as it is.
func TestModelFactsChecked(t *testing.T) {
	m, _ := nn.New(arch, 1)
	for _, c := range []struct {
		name string
		edit func(facts map[string]any, p map[string]any)
		want string
	}{
		{"class names short", func(f, p map[string]any) { f["class_names"] = []string{"a", "b"} }, "class_names has 2 names, the network has 3 outputs"},
		{"class name escape", func(f, p map[string]any) { f["class_names"] = []string{"a", "b\x1b[2J", "c"} }, `class_names[1] "b\x1b[2J"`},
		{"class name long", func(f, p map[string]any) { f["class_names"] = []string{"a", strings.Repeat("b", 300), "c"} }, "at most 256 bytes"},
		{"scale huge", func(f, p map[string]any) { p["scale"] = 1e308 }, "preprocessing.scale 1e+308"},
		{"scale zero", func(f, p map[string]any) { p["scale"] = 0 }, "preprocessing.scale 0"},
		// evaluate and predict scale by 1/255 whatever the file says.
		{"scale 1", func(f, p map[string]any) { p["scale"] = 1 }, "preprocessing.scale 1: only 1/255"},
		{"channels first", func(f, p map[string]any) { p["flatten"] = "channels_first" }, `flatten "channels_first"`},
		{"shape of another size", func(f, p map[string]any) { p["input_shape"] = []int{2, 3, 3} }, "is 18 values, the network takes 12"},
		{"shape of four dims", func(f, p map[string]any) { p["input_shape"] = []int{2, 2, 3, 1} }, "want [height, width, 1 or 3]"},
		{"shape huge", func(f, p map[string]any) { p["input_shape"] = []int{1 << 40, 1 << 40, 3} }, "want [height, width, 1 or 3]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Save(dir, m, Describe(arch, []int{2, 2, 3}, []string{"a", "b", "c"}, nil)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := Load(dir); err != nil {
				t.Fatalf("before the edit: %v", err)
			}
			name := filepath.Join(dir, ConfigFile)
			b, _ := os.ReadFile(name)
			var top map[string]any
			json.Unmarshal(b, &top)
			facts := top["cifarnet"].(map[string]any)
			c.edit(facts, facts["preprocessing"].(map[string]any))
			b, _ = json.Marshal(top)
			os.WriteFile(name, b, 0o644)
			_, _, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
