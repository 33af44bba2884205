package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/experiment"
	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/saving"
	"github.com/cifarnet/cifarnet/train"
)

// fillNonFinite sets every float reachable from v to NaN, +Inf or -Inf in
// turn, giving every slice and map one element and every pointer and
// interface a value, so that each float field a JSON file can hold is
// tried.
func fillNonFinite(v reflect.Value, depth int, n *int) {
	if depth > 8 || !v.CanSet() || v.Type() == reflect.TypeFor[json.RawMessage]() {
		return
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		v.SetFloat([]float64{math.NaN(), math.Inf(1), math.Inf(-1)}[*n%3])
		*n++
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillNonFinite(p.Elem(), depth+1, n)
		v.Set(p)
	case reflect.Interface:
		if v.NumMethod() == 0 {
			v.Set(reflect.ValueOf(math.NaN()))
			*n++
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillNonFinite(s.Index(0), depth+1, n)
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fillNonFinite(v.Index(i), depth+1, n)
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return
		}
		m := reflect.MakeMap(v.Type())
		e := reflect.New(v.Type().Elem()).Elem()
		fillNonFinite(e, depth+1, n)
		m.SetMapIndex(reflect.ValueOf("k").Convert(v.Type().Key()), e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			fillNonFinite(v.Field(i), depth+1, n)
		}
	}
}

// TestEveryJSONFileHoldsNonFiniteFigures: every value cifarnet writes as
// JSON (a run's metrics and history, the checkpoint's state, evaluation,
// an experiment's summary and a run's place in it, model.json), with every
// float in it NaN or infinite, is written, as valid JSON with null in the
// place of each: one undefined figure never makes a file unwritable (and
// loses the run). evaluation.json used to fail on a NaN loss.
func TestEveryJSONFileHoldsNonFiniteFigures(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []any{
		&train.Metrics{}, &train.History{}, &Evaluation{}, &experiment.Summary{}, &report.ExperimentPlace{},
		&saving.Config{}, &[]Prediction{},
	} {
		name := reflect.TypeOf(v).Elem().String()
		n := 0
		fillNonFinite(reflect.ValueOf(v).Elem(), 0, &n)
		if n == 0 {
			t.Errorf("%s: no float filled: the test proves nothing", name)
			continue
		}
		file := filepath.Join(dir, strings.NewReplacer("[", "", "]", "").Replace(name)+".json")
		if err := atomicfile.WriteJSON(file, v); err != nil {
			t.Errorf("%s with %d non-finite figures: %v", name, n, err)
			continue
		}
		b, _ := os.ReadFile(file)
		if !json.Valid(b) || !strings.Contains(string(b), "null") {
			t.Errorf("%s: not valid JSON with nulls:\n%s", name, b)
		}
	}

	// The checkpoint's state, in the metadata of its one file.
	var ck train.Checkpoint
	n := 0
	fillNonFinite(reflect.ValueOf(&ck).Elem(), 0, &n)
	ck.Weights, ck.Early.BestWeights, ck.Optimizer.Slots = nil, nil, nil
	if err := ck.Save(dir); err != nil {
		t.Errorf("checkpoint with %d non-finite figures: %v", n, err)
	}
}
