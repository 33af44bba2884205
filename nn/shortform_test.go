package nn

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseLayersKerasSpellings: the short form takes what a Keras user
// writes: quoted strings ('elu', "he_normal"), Keras's class names
// (BatchNormalization, AlphaDropout), the same configs as the plain
// form; and refuses a keyword given twice, as Python does.
func TestParseLayersKerasSpellings(t *testing.T) {
	plain, err := ParseLayers("dense(256, elu, he_normal), batchnorm, alpha_dropout(0.1), dense(10, softmax)", map[string]int{})
	if err != nil {
		t.Fatal(err)
	}
	keras, err := ParseLayers(`Dense(256, activation='elu', kernel_initializer="he_normal"), BatchNormalization(), AlphaDropout(0.1), Dense(10, 'softmax')`, map[string]int{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plain, keras) {
		t.Errorf("Keras spellings gave\n%v\nwant\n%v", keras, plain)
	}
	for in, want := range map[string]string{
		"dense(units=256, units=3)": "units given twice",
		"dense(256, 'elu)":          "a quote that is not closed",
		"Conv2D(3)":                 `"conv2d" is not a layer`,
	} {
		if _, err := ParseLayers(in, map[string]int{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", in, err, want)
		}
	}
}
