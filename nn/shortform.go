package nn

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// shortForm is a layer of the short form: its Keras class and the config
// fields its positional arguments fill, in order.
type shortForm struct {
	class      string
	positional []string
}

// shortForms maps each name of the short form (ParseLayers) to its Keras
// class and the config fields its positional arguments fill, in order.
var shortForms = map[string]shortForm{
	"dense":               {"Dense", []string{"units", "activation", "kernel_initializer"}},
	"batchnorm":           {"BatchNormalization", nil},
	"batch_normalization": {"BatchNormalization", nil},
	"dropout":             {"Dropout", []string{"rate"}},
	"alpha_dropout":       {"AlphaDropout", []string{"rate"}},
	"gaussian_noise":      {"GaussianNoise", []string{"stddev"}},
	"gaussian_dropout":    {"GaussianDropout", []string{"rate"}},
	"activation":          {"Activation", []string{"activation"}},
	"normalization":       {"Normalization", nil},
	"rescaling":           {"Rescaling", []string{"scale", "offset"}},
	"flatten":             {"Flatten", nil},
}

// objectForms are the Keras objects a short-form argument may call, with
// their positional config fields: l2(0.01), max_norm(3), ...
var objectForms = map[string][]string{
	"l1": {"l1"}, "l2": {"l2"}, "l1_l2": {"l1", "l2"},
	"max_norm": {"max_value"}, "min_max_norm": {"min_value", "max_value", "rate"}, "unit_norm": nil, "non_neg": nil,
	"random_normal": {"mean", "stddev"}, "truncated_normal": {"mean", "stddev"}, "random_uniform": {"minval", "maxval"},
	"constant": {"value"}, "orthogonal": {"gain"}, "variance_scaling": {"scale", "mode", "distribution"},
}

// ShortFormHelp describes the short form for --help.
const ShortFormHelp = `layers as Keras names them, comma-separated, each with its arguments in
parentheses (positional as in Keras, except dense's third, which is
kernel_initializer where Keras's is use_bias; or name=value): dense(units,
activation, kernel_initializer), batchnorm (batch_normalization), dropout(rate),
alpha_dropout(rate), gaussian_noise(stddev), gaussian_dropout(rate),
activation(name), normalization, rescaling(scale, offset), flatten; e.g.
"dense(256, elu, he_normal), batchnorm, dropout(0.2)" (or as Python writes
it: "Dense(256, activation='elu'), BatchNormalization()") or
"dense(100, selu, lecun_normal, kernel_regularizer=l2(0.01))"`

// ParseLayers reads the short form of a layer list, e.g.
// "dense(256, elu), batchnorm, dropout(0.2)", into Keras configs named as
// Keras names layers automatically (dense, dense_1, batch_normalization,
// ...) unless name= names them. names counts the automatic names already
// given per class, and the names taken, and is updated.
func ParseLayers(s string, names map[string]int) ([]LayerConfig, error) {
	p := &shortParser{s: s}
	var cs []LayerConfig
	for {
		p.space()
		if p.done() && len(cs) > 0 {
			return nil, p.errorf("a layer after the last comma")
		}
		name, args, kw, err := p.call()
		if err != nil {
			return nil, err
		}
		form, ok := shortForms[name]
		if !ok {
			// Keras's class names too: BatchNormalization, AlphaDropout.
			form, ok = shortFormsByClass[strings.ReplaceAll(name, "_", "")]
		}
		if !ok {
			return nil, fmt.Errorf("%q is not a layer (want one of %s)", name, strings.Join(sortedKeys(shortForms), ", "))
		}
		cfg := map[string]any{}
		if len(args) > len(form.positional) {
			return nil, fmt.Errorf("%s takes at most %d positional arguments, got %d", name, len(form.positional), len(args))
		}
		for i, a := range args {
			if _, isBool := a.(bool); isBool && form.class == "Dense" && i == 2 {
				// Python's Dense(8, 'relu', True): Keras's third is use_bias.
				return nil, fmt.Errorf("%s: the third positional argument is kernel_initializer here (Keras's is use_bias), got %v: write use_bias=%v", name, a, a)
			}
			cfg[form.positional[i]] = a
		}
		for k, v := range kw {
			if _, dup := cfg[k]; dup {
				return nil, fmt.Errorf("%s: %s given twice", name, k)
			}
			cfg[k] = v
		}
		// name= names the layer, as in Keras, where only a layer without
		// one gets an automatic name (keras/src/ops/operation.py); the
		// automatic names skip those given.
		if v, given := cfg["name"]; given {
			n, isStr := v.(string)
			if !isStr {
				return nil, fmt.Errorf("%s: name: want a string, got %v", name, v)
			}
			if names[takenKey+n] > 0 {
				return nil, fmt.Errorf("%s: name %q: a layer already has this name; a model's layer names must be unique", name, n)
			}
		} else {
			cfg["name"] = AutoName(form.class, names)
		}
		names[takenKey+cfg["name"].(string)]++
		cs = append(cs, LayerConfig{form.class, cfg})
		p.space()
		if p.done() {
			return cs, nil
		}
		if !p.eat(',') {
			return nil, p.errorf("want a comma between layers")
		}
	}
}

// shortFormsByClass finds a short form by its name without underscores,
// which is also its Keras class name in lower case (batchnormalization,
// alphadropout).
var shortFormsByClass = func() map[string]shortForm {
	m := map[string]shortForm{}
	for k, f := range shortForms {
		m[strings.ReplaceAll(k, "_", "")] = f
		m[strings.ToLower(f.class)] = f
	}
	return m
}()

// AutoName is Keras's automatic layer name: the class in snake_case, then
// _1, _2, ... for the later ones, skipping the names taken in names.
func AutoName(class string, names map[string]int) string {
	base := snake(class)
	for {
		n := names[base]
		names[base] = n + 1
		name := base
		if n > 0 {
			name = fmt.Sprintf("%s_%d", base, n)
		}
		if names[takenKey+name] == 0 {
			names[takenKey+name]++
			return name
		}
	}
}

// takenKey prefixes, in the names map of ParseLayers and AutoName, each
// layer name taken (a name with a NUL byte is no layer's: NewLayer refuses
// control characters).
const takenKey = "\x00"

type shortParser struct {
	s   string
	pos int
}

func (p *shortParser) done() bool { return p.pos >= len(p.s) }

func (p *shortParser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n') {
		p.pos++
	}
}

func (p *shortParser) eat(c byte) bool {
	p.space()
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *shortParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at character %d of %q: %s", p.pos+1, p.s, fmt.Sprintf(format, args...))
}

// word reads a name or a number.
func (p *shortParser) word() string {
	p.space()
	start := p.pos
	for p.pos < len(p.s) && strings.IndexByte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+", p.s[p.pos]) >= 0 {
		p.pos++
	}
	return p.s[start:p.pos]
}

// call reads name or name(arg, key=value, ...).
func (p *shortParser) call() (name string, args []any, kw map[string]any, err error) {
	name = strings.ToLower(p.word())
	if name == "" {
		return "", nil, nil, p.errorf("want a layer name")
	}
	kw = map[string]any{}
	if !p.eat('(') {
		return name, nil, kw, nil
	}
	if p.eat(')') {
		return name, nil, kw, nil
	}
	for {
		start := p.pos
		w := p.word()
		if p.eat('=') {
			if _, dup := kw[w]; dup {
				return "", nil, nil, p.errorf("%s given twice", w)
			}
			v, err := p.value()
			if err != nil {
				return "", nil, nil, err
			}
			kw[w] = v
		} else {
			p.pos = start
			if len(kw) > 0 {
				return "", nil, nil, p.errorf("a positional argument after a named one")
			}
			v, err := p.value()
			if err != nil {
				return "", nil, nil, err
			}
			args = append(args, v)
		}
		if p.eat(')') {
			return name, args, kw, nil
		}
		if !p.eat(',') {
			return "", nil, nil, p.errorf("want , or ) in the arguments of %s", name)
		}
	}
}

// value reads a number, true/false, a name, or a Keras object call such as
// l2(0.01).
func (p *shortParser) value() (any, error) {
	p.space()
	// A quoted string, as Python writes it: 'elu' or "elu".
	if p.pos < len(p.s) && (p.s[p.pos] == '\'' || p.s[p.pos] == '"') {
		q := p.s[p.pos]
		end := strings.IndexByte(p.s[p.pos+1:], q)
		if end < 0 {
			return nil, p.errorf("a quote that is not closed")
		}
		v := p.s[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		return v, nil
	}
	start := p.pos
	w := p.word()
	if w == "" {
		return nil, p.errorf("want a value")
	}
	if f, err := strconv.ParseFloat(w, 64); err == nil {
		return f, nil
	}
	switch strings.ToLower(w) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "none", "null":
		return nil, nil
	}
	p.space()
	if p.pos < len(p.s) && p.s[p.pos] == '(' {
		p.pos = start
		name, args, kw, err := p.call()
		if err != nil {
			return nil, err
		}
		fields, ok := objectForms[name]
		if !ok {
			return nil, fmt.Errorf("%s(...) is not a Keras regularizer, constraint or initializer with arguments", name)
		}
		if len(args) > len(fields) {
			return nil, fmt.Errorf("%s takes at most %d positional arguments, got %d", name, len(fields), len(args))
		}
		cfg := map[string]any{}
		for i, a := range args {
			cfg[fields[i]] = a
		}
		for k, v := range kw {
			cfg[k] = v
		}
		return map[string]any{"class_name": camel(name), "config": cfg}, nil
	}
	return w, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
