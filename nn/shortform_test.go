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
		"Dense(8, 'relu', True)":    "kernel_initializer here (Keras's is use_bias), got true: write use_bias=true",
	} {
		if _, err := ParseLayers(in, map[string]int{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", in, err, want)
		}
	}
}

// TestParseLayersName: name= names a layer (it was refused as "given
// twice", the automatic name being filled in first); a layer without one
// gets an automatic name that no layer has; a name two layers would have
// is refused, as Keras refuses it, and so is name= given twice.
func TestParseLayersName(t *testing.T) {
	names := map[string]int{}
	cs, err := ParseLayers("dense(100, name='foo'), dense(50, name='dense_1'), dense(20), dense(10)", names)
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	for _, c := range cs {
		got = append(got, c.Config["name"])
	}
	if want := []any{"foo", "dense_1", "dense", "dense_2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("names %v, want %v", got, want)
	}
	if n := AutoName("Dense", names); n != "dense_3" {
		t.Errorf("the next automatic name is %q, want dense_3", n)
	}
	for in, want := range map[string]string{
		"dense(10, name='a'), dense(5, name='a')": `name "a": a layer already has this name`,
		"dense(10), dense(5, name='dense')":       `name "dense": a layer already has this name`,
		"dense(10, name='a', name='b')":           "name given twice",
	} {
		if _, err := ParseLayers(in, map[string]int{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", in, err, want)
		}
	}
}
