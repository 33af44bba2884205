package stats

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"

	"github.com/cifarnet/cifarnet/internal/finitejson"
)

// JSON cannot hold NaN or infinities, and an undefined figure (the
// standard deviation of one run, a test without spread) is NaN here: these
// types write such a figure as null.

// MarshalJSON writes non-finite figures as null.
func (s Summary) MarshalJSON() ([]byte, error) { return marshalFinite(s) }

// MarshalJSON writes non-finite figures as null.
func (c Comparison) MarshalJSON() ([]byte, error) { return marshalFinite(c) }

// MarshalJSON writes non-finite figures as null.
func (p Position) MarshalJSON() ([]byte, error) { return marshalFinite(p) }

// MarshalJSON writes non-finite figures as null.
func (t TTest) MarshalJSON() ([]byte, error) { return marshalFinite(t) }

// MarshalJSON writes non-finite figures as null.
func (u UTest) MarshalJSON() ([]byte, error) { return marshalFinite(u) }

// marshalFinite writes a struct's exported fields as a JSON object in
// field order, named by their json tags, with non-finite float64 fields
// as null. Each field is marshalled on its own, so nested types keep their
// own MarshalJSON.
func marshalFinite(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		key, _ := json.Marshal(name)
		b.Write(key)
		b.WriteByte(':')
		fv := rv.Field(i)
		if fv.Kind() == reflect.Float64 && (math.IsNaN(fv.Float()) || math.IsInf(fv.Float(), 0)) {
			b.WriteString("null")
			continue
		}
		val, err := finitejson.Marshal(fv.Interface())
		if err != nil {
			return nil, err
		}
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
