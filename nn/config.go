package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/cifarnet/cifarnet/internal/quote"
)

// LayerConfig is one layer as Keras serializes it (layer.get_config()
// under its class name): the description a Sequential is built from and
// written back to.
type LayerConfig struct {
	ClassName string         `json:"class_name"`
	Config    map[string]any `json:"config"`
}

// layerBuilders makes a layer of each supported Keras class from its
// config; the reader fills in Keras's defaults and reports unknown fields.
var layerBuilders = map[string]func(c *configReader) (Layer, error){
	"Dense":              newDenseFromConfig,
	"Activation":         newActivationFromConfig,
	"BatchNormalization": newBatchNormalizationFromConfig,
	"Dropout":            newDropoutFromConfig,
	"AlphaDropout":       newAlphaDropoutFromConfig,
	"GaussianNoise":      newGaussianNoiseFromConfig,
	"GaussianDropout":    newGaussianDropoutFromConfig,
	"Normalization":      newNormalizationFromConfig,
	"Rescaling":          newRescalingFromConfig,
	"Flatten":            newFlattenFromConfig,
}

// LayerClasses lists the Keras layer classes NewLayer accepts.
func LayerClasses() []string {
	names := make([]string, 0, len(layerBuilders))
	for n := range layerBuilders {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewLayer makes an unbuilt layer from its Keras config. Missing fields
// take Keras's defaults; a field cifarnet does not support, or a value it
// cannot honour, is an error naming the layer and the field.
// maxName bounds a layer's name, which every weight's name in the weights
// file repeats.
const maxName = 1024

func NewLayer(lc LayerConfig) (Layer, error) {
	b, ok := layerBuilders[lc.ClassName]
	if !ok {
		return nil, fmt.Errorf("layer class %q is not supported (supported: %s)", lc.ClassName, strings.Join(LayerClasses(), ", "))
	}
	c := &configReader{class: lc.ClassName, in: lc.Config, out: map[string]any{}}
	if c.in == nil {
		c.in = map[string]any{}
	}
	c.name = c.str("name", "")
	if c.name == "" {
		return nil, fmt.Errorf("%s layer: config has no \"name\"", lc.ClassName)
	}
	// Keras refuses '/' in a name (keras/src/ops/operation.py); it
	// separates a layer's name from its weight's in the weights file. A
	// control character would reach the terminal through the summary.
	if strings.IndexFunc(c.name, func(r rune) bool { return r == '/' || r < 0x20 || r == 0x7f }) >= 0 || len(c.name) > maxName {
		return nil, fmt.Errorf("%s layer %s: a name without '/' or control characters, at most %d bytes, is wanted", lc.ClassName, quote.Short(c.name), maxName)
	}
	c.common()
	l, err := b(c)
	if err == nil {
		err = c.err
	}
	if err == nil {
		err = c.unknown()
	}
	if err != nil {
		return nil, err
	}
	setConfig(l, LayerConfig{lc.ClassName, c.out})
	return l, nil
}

// newerKeras lists, per class, the config fields that only newer Keras
// versions take, which Keras writes null (or, lora_alpha, not at all)
// when unused: Dense's lora_rank (Keras 3.0.3+), lora_alpha (3.12+) and
// quantization_config (3.13+; get_config in keras/src/layers/core/
// dense.py); BatchNormalization's renorm (false), renorm_clipping (null)
// and renorm_momentum (unused without renorm; 3.14+, keras/src/layers/
// normalization/batch_normalization.py). Older Keras refuses them
// ("Unrecognized keyword arguments").
var newerKeras = map[string][]string{
	"Dense":              {"lora_rank", "lora_alpha", "quantization_config"},
	"BatchNormalization": {"renorm", "renorm_clipping", "renorm_momentum"},
}

// newerInitializerFields are the fields Keras 3.15+ writes null in every
// VarianceScaling initializer's config (HeNormal, GlorotUniform, ...;
// keras/src/initializers/random_initializers.py), which older Keras
// refuses.
var newerInitializerFields = []string{"input_axes", "output_axes"}

// Portable returns lc without the fields of newerKeras at their unused
// values (null; lora_alpha without lora_rank; renorm false and its two
// fields with it), and its initializers without newerInitializerFields
// that are null: the config every Keras 3 reads, meaning what lc means
// to the newest.
func Portable(lc LayerConfig) LayerConfig {
	fields := newerKeras[lc.ClassName]
	drop := func(k string) bool {
		v, ok := lc.Config[k]
		if !ok {
			return false
		}
		switch k {
		case "lora_alpha":
			return lc.Config["lora_rank"] == nil
		case "renorm":
			return v == false
		case "renorm_momentum":
			r, ok := lc.Config["renorm"]
			return !ok || r == false
		}
		return v == nil
	}
	out := make(map[string]any, len(lc.Config))
	changed := false
	for k, v := range lc.Config {
		if slices.Contains(fields, k) && drop(k) {
			changed = true
			continue
		}
		if p, ok := portableInitializer(v); ok {
			v, changed = p, true
		}
		out[k] = v
	}
	if !changed {
		return lc
	}
	return LayerConfig{lc.ClassName, out}
}

// portableInitializer returns v, a serialized Keras object, without the
// null newerInitializerFields of its config, and whether it had any.
func portableInitializer(v any) (any, bool) {
	o, ok := v.(map[string]any)
	if !ok {
		return v, false
	}
	cfg, ok := o["config"].(map[string]any)
	if !ok {
		return v, false
	}
	n := 0
	for _, f := range newerInitializerFields {
		if x, ok := cfg[f]; ok && x == nil {
			n++
		}
	}
	if n == 0 {
		return v, false
	}
	c2 := make(map[string]any, len(cfg)-n)
	for k, x := range cfg {
		if x == nil && slices.Contains(newerInitializerFields, k) {
			continue
		}
		c2[k] = x
	}
	o2 := make(map[string]any, len(o))
	for k, x := range o {
		o2[k] = x
	}
	o2["config"] = c2
	return o2, true
}

// configured layers remember the Keras config they were made from, with
// every default filled in: Config writes it back.
type configured struct{ cfg LayerConfig }

func (c *configured) setConfig(lc LayerConfig) { c.cfg = lc }

// Config returns the layer's Keras config (get_config), defaults filled in.
func (c *configured) Config() LayerConfig { return c.cfg }

func setConfig(l Layer, lc LayerConfig) {
	if s, ok := l.(interface{ setConfig(LayerConfig) }); ok {
		s.setConfig(lc)
	}
}

// ConfigOf returns the Keras config of a layer made by NewLayer.
func ConfigOf(l Layer) (LayerConfig, bool) {
	c, ok := l.(interface{ Config() LayerConfig })
	if !ok {
		return LayerConfig{}, false
	}
	return c.Config(), true
}

// configReader reads one layer's config: each getter records the field
// (with its default when absent) in out, and the first bad value in err.
type configReader struct {
	class, name string
	in, out     map[string]any
	err         error
	// prefix names the object a sub-reader reads ("kernel_initializer.HeNormal").
	prefix string
	// unused holds the fields read (newerDefault) but left out of out.
	unused map[string]bool
}

// newerDefault reads a field that only newer Keras versions write, which
// cifarnet supports at the value that means what older versions do (ok
// tells whether v is it), leaving it out of the config written back (so
// that older Keras, which refuses the field, reads it; and so that a
// configuration's identity does not depend on the version that wrote it).
func (c *configReader) newerDefault(field, want string, ok func(v any) bool) {
	if v, given := c.get(field); given && !ok(v) {
		c.fail(field, "only %s is supported, got %s", want, compact(v))
	}
	if c.unused == nil {
		c.unused = map[string]bool{}
	}
	c.unused[field] = true
}

func (c *configReader) fail(field, format string, args ...any) {
	if c.err == nil {
		if c.prefix != "" {
			field = c.prefix + "." + field
		}
		c.err = fmt.Errorf("layer %q (%s): %s: %s", c.name, c.class, field, fmt.Sprintf(format, args...))
	}
}

// common reads the base Layer fields every Keras layer writes.
func (c *configReader) common() {
	if v, ok := c.in["trainable"]; ok {
		if b, isBool := v.(bool); !isBool || !b {
			c.fail("trainable", "only true is supported (a frozen layer is not), got %v", v)
		}
	}
	c.out["trainable"] = true
	if v, ok := c.in["dtype"]; ok && v != nil {
		name := ""
		switch d := v.(type) {
		case string:
			name = d
		case map[string]any:
			if cfg, ok := d["config"].(map[string]any); ok {
				name, _ = cfg["name"].(string)
			}
		}
		if name != "float32" {
			c.fail("dtype", "only float32 is supported, got %s", compact(v))
		}
	}
	c.out["dtype"] = map[string]any{"module": "keras", "class_name": "DTypePolicy", "config": map[string]any{"name": "float32"}, "registered_name": nil}
}

// unknown reports the first field that no getter read.
func (c *configReader) unknown() error {
	var extra []string
	for k := range c.in {
		if _, ok := c.out[k]; !ok && !c.unused[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	field := extra[0]
	if c.prefix != "" {
		field = c.prefix + "." + field
	}
	hint := ""
	if field == "batch_input_shape" {
		// tf.keras 2's way of giving a Sequential its input, which Keras
		// 3's model_from_json refuses too (keras/src/layers/layer.py).
		hint = " (tf.keras 2's input shape on a layer, which Keras 3 refuses too: give the model an InputLayer with batch_shape first)"
	}
	return fmt.Errorf("layer %q (%s): field %q is not supported%s", c.name, c.class, field, hint)
}

func (c *configReader) get(field string) (any, bool) {
	v, ok := c.in[field]
	if ok && v == nil {
		return nil, false
	}
	return v, ok
}

func (c *configReader) str(field, def string) string {
	v, ok := c.get(field)
	if !ok {
		c.out[field] = def
		return def
	}
	s, isStr := v.(string)
	if !isStr {
		c.fail(field, "want a string, got %s", compact(v))
	}
	c.out[field] = s
	return s
}

func (c *configReader) boolean(field string, def bool) bool {
	v, ok := c.get(field)
	if !ok {
		c.out[field] = def
		return def
	}
	b, isBool := v.(bool)
	if !isBool {
		c.fail(field, "want true or false, got %s", compact(v))
	}
	c.out[field] = b
	return b
}

// float reads a number within [lo, hi].
func (c *configReader) float(field string, def, lo, hi float64) float64 {
	v, ok := c.get(field)
	if !ok {
		c.out[field] = def
		return def
	}
	f, isNum := toFloat(v)
	if !isNum || math.IsNaN(f) || f < lo || f > hi {
		c.fail(field, "want a number in [%g, %g], got %s", lo, hi, compact(v))
		return def
	}
	c.out[field] = f
	return f
}

// integer reads a whole number within [lo, hi].
func (c *configReader) integer(field string, def, lo, hi int) int {
	v, ok := c.get(field)
	if !ok {
		c.out[field] = def
		return def
	}
	f, isNum := toFloat(v)
	if !isNum || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		c.fail(field, "want a whole number in [%d, %d], got %s", lo, hi, compact(v))
		return def
	}
	c.out[field] = int(f)
	return int(f)
}

// null reads a field cifarnet supports only when absent or null (Keras's
// default), naming what it would have meant.
func (c *configReader) null(field, what string) {
	if v, ok := c.get(field); ok {
		c.fail(field, "%s is not supported (want null), got %s", what, compact(v))
	}
	c.out[field] = nil
}

// fixed reads a field cifarnet supports only with Keras's default value.
func (c *configReader) fixed(field string, def any) {
	v, ok := c.get(field)
	if ok && compact(v) != compact(def) {
		c.fail(field, "only %s is supported, got %s", compact(def), compact(v))
	}
	c.out[field] = def
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// compact renders a config value briefly for an error message.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}
