package nn

import (
	"fmt"
	"strings"
	"unicode"
)

// kerasObject is a serialized Keras object (an initializer, regularizer or
// constraint): {"module", "class_name", "config", "registered_name"}, or a
// plain name such as "he_normal".
type kerasObject struct {
	class  string // CamelCase class name
	config map[string]any
	// name is the class_name or the plain name as given ("he_normal").
	name string
}

// object reads a Keras object field; ok is false when it is absent or null.
func (c *configReader) object(field string) (o kerasObject, ok bool) {
	v, present := c.get(field)
	if !present {
		return kerasObject{}, false
	}
	switch x := v.(type) {
	case string:
		return kerasObject{class: camel(x), config: map[string]any{}, name: x}, true
	case map[string]any:
		if r, ok := x["registered_name"]; ok && r != nil {
			c.fail(field, "registered (custom) object %s is not supported", compact(r))
			return kerasObject{}, false
		}
		cls, _ := x["class_name"].(string)
		if cls == "" {
			c.fail(field, "want a Keras object with a class_name, got %s", compact(v))
			return kerasObject{}, false
		}
		cfg, _ := x["config"].(map[string]any)
		if cfg == nil {
			cfg = map[string]any{}
		}
		return kerasObject{class: cls, config: cfg, name: cls}, true
	}
	c.fail(field, "want a name or a Keras object, got %s", compact(v))
	return kerasObject{}, false
}

// serialize is Keras's serialize_keras_object for module's object.
func serialize(module, class string, config map[string]any) map[string]any {
	return map[string]any{"module": module, "class_name": class, "config": config, "registered_name": nil}
}

// camel turns Keras's snake_case alias into its class name: he_normal ->
// HeNormal, l1_l2 -> L1L2.
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
		}
		up = false
		b.WriteRune(r)
	}
	return b.String()
}

// objectReader reads an object's config like configReader reads a layer's.
func (c *configReader) sub(field string, o kerasObject) *configReader {
	return &configReader{class: c.class, name: c.name, in: o.config, out: map[string]any{}, prefix: field + "." + o.class}
}

// done passes the first error of a sub-reader (or its unknown field) up.
func (c *configReader) done(s *configReader) {
	if s.err == nil {
		s.err = s.unknown()
	}
	if s.err != nil && c.err == nil {
		c.err = s.err
	}
}

func unsupported(kind, class string, known []string) error {
	return fmt.Errorf("%s %q is not supported (supported: %s)", kind, class, strings.Join(known, ", "))
}
