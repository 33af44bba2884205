package nn

import (
	"strings"
	"testing"
)

// TestLayerNamesChecked: a model whose layers share a name (their weights
// would collide in the weights file: the run used to train to the end and
// then fail to save), or whose name holds '/' or a control character, or
// is megabytes long, is refused when it is built, naming the layer.
func TestLayerNamesChecked(t *testing.T) {
	for _, c := range []struct {
		name  string
		names []string
		want  string
	}{
		{"duplicate", []string{"dense", "dense"}, `layer "dense": two layers have this name`},
		{"slash", []string{"a/kernel", "b"}, `"a/kernel": a name without '/'`},
		{"newline", []string{"a\nb", "b"}, `"a\nb": a name without`},
		{"escape", []string{"a\x1b[2J", "b"}, "control characters"},
		{"long", []string{strings.Repeat("n", 5000), "b"}, "(5000 bytes)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cs := []LayerConfig{dense(c.names[0], 8, "relu"), dense(c.names[1], 3, "softmax")}
			_, err := FromConfigs(4, 1, cs)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
			if err != nil && len(err.Error()) > 300 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
		})
	}
	if _, err := FromConfigs(4, 1, []LayerConfig{dense("dense", 8, "relu"), dense("dense_1", 3, "softmax")}); err != nil {
		t.Errorf("distinct names: %v", err)
	}
}
