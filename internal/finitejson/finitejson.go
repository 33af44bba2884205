// Package finitejson marshals values as encoding/json does, except that a
// NaN or infinite float is written as null rather than failing the whole
// value: JSON cannot hold such a number, and one undefined figure (the loss
// of a run stopped by a NaN, the spread of one sample) must never make a
// run's files unwritable. Values without one give encoding/json's bytes
// exactly (it writes them); only a value that holds one takes the slower
// path here.
package finitejson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Marshal is json.Marshal with non-finite floats written as null.
func Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if !nonFinite(err) {
		return b, err
	}
	var buf bytes.Buffer
	if err := encode(&buf, reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MarshalIndent is json.MarshalIndent with non-finite floats written as
// null.
func MarshalIndent(v any, prefix, indent string) ([]byte, error) {
	b, err := json.MarshalIndent(v, prefix, indent)
	if !nonFinite(err) {
		return b, err
	}
	if b, err = Marshal(v); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, prefix, indent); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// nonFinite tells whether err is encoding/json refusing a NaN or an
// infinity (perhaps inside a type's own MarshalJSON).
func nonFinite(err error) bool {
	var uv *json.UnsupportedValueError
	return errors.As(err, &uv) && (strings.Contains(uv.Str, "NaN") || strings.Contains(uv.Str, "Inf"))
}

var (
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
)

// encode writes v as encoding/json would, with non-finite floats as null.
func encode(b *bytes.Buffer, v reflect.Value) error {
	if !v.IsValid() {
		b.WriteString("null")
		return nil
	}
	if m, ok := marshaler(v); ok {
		js, err := m.MarshalJSON()
		if err != nil {
			return &json.MarshalerError{Type: v.Type(), Err: err}
		}
		return json.Compact(b, js)
	}
	if implements(v, textType) {
		return leaf(b, v)
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			b.WriteString("null")
			return nil
		}
		return leaf(b, v)
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return leaf(b, v)
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		return encode(b, v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 && !implements(reflect.New(v.Type().Elem()).Elem(), marshalerType) {
			return leaf(b, v) // []byte: base64
		}
		return list(b, v)
	case reflect.Array:
		return list(b, v)
	case reflect.Map:
		return object(b, v)
	case reflect.Struct:
		return structure(b, v)
	}
	return &json.UnsupportedTypeError{Type: v.Type()}
}

// marshaler returns v's MarshalJSON, with encoding/json's rules: a value
// receiver always, a pointer receiver when v is addressable.
func marshaler(v reflect.Value) (json.Marshaler, bool) {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, false
	}
	if v.Type().Implements(marshalerType) && v.CanInterface() {
		if v.Kind() == reflect.Interface && v.IsNil() {
			return nil, false
		}
		return v.Interface().(json.Marshaler), true
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() && reflect.PointerTo(v.Type()).Implements(marshalerType) {
		return v.Addr().Interface().(json.Marshaler), true
	}
	return nil, false
}

func implements(v reflect.Value, t reflect.Type) bool {
	return v.Type().Implements(t) || (v.CanAddr() && reflect.PointerTo(v.Type()).Implements(t))
}

// leaf writes a value holding no float that can be non-finite.
func leaf(b *bytes.Buffer, v reflect.Value) error {
	if v.CanAddr() {
		v = v.Addr()
	}
	js, err := json.Marshal(v.Interface())
	if err != nil {
		return err
	}
	b.Write(js)
	return nil
}

func list(b *bytes.Buffer, v reflect.Value) error {
	b.WriteByte('[')
	for i := range v.Len() {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := encode(b, v.Index(i)); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

// object writes a map with its keys sorted, as encoding/json does.
func object(b *bytes.Buffer, v reflect.Value) error {
	if v.IsNil() {
		b.WriteString("null")
		return nil
	}
	type entry struct {
		key string
		val reflect.Value
	}
	var es []entry
	for it := v.MapRange(); it.Next(); {
		k, err := mapKey(it.Key())
		if err != nil {
			return err
		}
		es = append(es, entry{k, it.Value()})
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	b.WriteByte('{')
	for i, e := range es {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(e.key)
		b.Write(key)
		b.WriteByte(':')
		if err := encode(b, e.val); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		t, err := tm.MarshalText()
		return string(t), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", &json.UnsupportedTypeError{Type: k.Type()}
}

func structure(b *bytes.Buffer, v reflect.Value) error {
	b.WriteByte('{')
	first := true
	for _, f := range fields(v.Type()) {
		fv, ok := fieldByIndex(v, f.index)
		if !ok || (f.omitEmpty && isEmpty(fv)) {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		key, _ := json.Marshal(f.name)
		b.Write(key)
		b.WriteByte(':')
		if f.quoted {
			return fmt.Errorf("finitejson: field %s: the ,string option is not supported", f.name)
		}
		if err := encode(b, fv); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// fieldByIndex follows an embedded path; a nil embedded pointer hides its
// fields, as in encoding/json.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

type field struct {
	name      string
	index     []int
	tagged    bool
	omitEmpty bool
	quoted    bool
}

// fields lists the JSON fields of struct type t in encoding/json's order,
// with its rules for embedded structs: the shallowest field of a name wins,
// a tagged one over untagged ones at the same depth, and a tie hides both.
func fields(t reflect.Type) []field {
	var all []field
	type level struct {
		t     reflect.Type
		index []int
	}
	current, next := []level{}, []level{{t, nil}}
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current, next = next, nil
		for _, l := range current {
			if visited[l.t] {
				continue
			}
			visited[l.t] = true
			for i := range l.t.NumField() {
				sf := l.t.Field(i)
				ft := sf.Type
				if sf.Anonymous {
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				index := append(slices.Clone(l.index), i)
				if sf.Anonymous && name == "" && ft.Kind() == reflect.Struct {
					next = append(next, level{ft, index})
					continue
				}
				f := field{name: name, index: index, tagged: name != ""}
				if name == "" {
					f.name = sf.Name
				}
				for o := range strings.SplitSeq(opts, ",") {
					f.omitEmpty = f.omitEmpty || o == "omitempty"
					f.quoted = f.quoted || o == "string"
				}
				all = append(all, f)
			}
		}
	}
	// Keep the dominant field of each name, in the order of their indices.
	byName := map[string][]field{}
	for _, f := range all {
		byName[f.name] = append(byName[f.name], f)
	}
	var out []field
	for _, fs := range byName {
		depth := len(fs[0].index)
		var top []field
		for _, f := range fs {
			if len(f.index) < depth {
				depth, top = len(f.index), nil
			}
			if len(f.index) == depth {
				top = append(top, f)
			}
		}
		if len(top) > 1 {
			var tagged []field
			for _, f := range top {
				if f.tagged {
					tagged = append(tagged, f)
				}
			}
			top = tagged
		}
		if len(top) == 1 {
			out = append(out, top[0])
		}
	}
	slices.SortFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out
}
