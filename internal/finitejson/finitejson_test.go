package finitejson

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	A float64 `json:"a"`
	B string  `json:"b,omitempty"`
}

type hidden struct {
	X float64 `json:"x"`
	A float64 `json:"a"` // shadowed by outer's A
}

type custom struct{ V float64 }

// MarshalJSON writes V doubled, through Marshal (as the project's own
// marshalers do), so a NaN inside stays null.
func (c custom) MarshalJSON() ([]byte, error) { return Marshal(map[string]float64{"twice": 2 * c.V}) }

type outer struct {
	hidden
	*inner
	A     float64            `json:"a"`
	F32   []float32          `json:"f32"`
	M     map[string]float64 `json:"m"`
	IntM  map[int]float64    `json:"int_m,omitempty"`
	P     *float64           `json:"p"`
	Any   any                `json:"any"`
	C     custom             `json:"c"`
	Bytes []byte             `json:"bytes"`
	Arr   [2]float64         `json:"arr"`
	Skip  float64            `json:"-"`
	Empty float64            `json:"empty,omitempty"`
	NoTag int
	low   float64
}

func sample(x float64) outer {
	p := x
	return outer{
		hidden: hidden{X: x, A: 7}, inner: &inner{A: 8, B: "<b>&"},
		A: x, F32: []float32{0.1, float32(x), 3}, M: map[string]float64{"z": x, "a": 1},
		IntM: map[int]float64{10: x, 2: 3}, P: &p, Any: []any{x, "s", map[string]any{"k": x}},
		C: custom{x}, Bytes: []byte("hi"), Arr: [2]float64{x, 1}, Skip: x, NoTag: 3, low: x,
	}
}

// TestSameBytesAsEncodingJSON: the slow path (the one a non-finite value
// takes) writes what encoding/json writes for finite values.
func TestSameBytesAsEncodingJSON(t *testing.T) {
	for _, x := range []float64{0, 1.5, -2e-300, 1e21, 0.1} {
		v := sample(x)
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := encode(&got, reflect.ValueOf(v)); err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want) {
			t.Errorf("x=%v:\n got %s\nwant %s", x, got.String(), want)
		}
	}
}

// TestNonFiniteIsNull: every NaN and infinity, wherever it sits, is null,
// and the rest is unchanged.
func TestNonFiniteIsNull(t *testing.T) {
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := json.Marshal(sample(x)); err == nil {
			t.Fatal("encoding/json accepted a non-finite value: the test proves nothing")
		}
		got, err := Marshal(sample(x))
		if err != nil {
			t.Fatalf("%v: %v", x, err)
		}
		want, _ := json.Marshal(sample(42))
		w := strings.NewReplacer("42", "null", "84", "null").Replace(string(want))
		if string(got) != w {
			t.Errorf("%v:\n got %s\nwant %s", x, got, w)
		}
		ind, err := MarshalIndent(sample(x), "", "  ")
		if err != nil || !json.Valid(ind) || !bytes.Contains(ind, []byte(`"a": null`)) {
			t.Errorf("indent %v: %v\n%s", x, err, ind)
		}
	}
}

// TestOtherErrorsPass: an error that is not a non-finite number is still
// an error.
func TestOtherErrorsPass(t *testing.T) {
	if _, err := Marshal(map[string]any{"f": func() {}}); err == nil {
		t.Error("a func marshalled")
	}
	if _, err := Marshal(struct {
		F float64
		C chan int
	}{math.NaN(), nil}); err == nil {
		t.Error("a chan marshalled")
	}
}
