package optim

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Args are an optimizer's or a schedule's arguments by their Keras names,
// as in its get_config: numbers (float64 or int), booleans, or nil for
// Keras's None (the default). JSON gives exactly these types.
type Args map[string]any

// argReader reads Args, remembering which were used, so that an argument
// the optimizer does not have is reported instead of ignored.
type argReader struct {
	owner string
	args  Args
	used  map[string]bool
	err   error
}

func newArgReader(owner string, a Args) *argReader {
	return &argReader{owner: owner, args: a, used: map[string]bool{}}
}

// ArgError is an argument of an optimizer, a learning-rate schedule or a
// callback, by its Keras name, that is out of its range: Owner's Key has
// Value; Want says what it should be, and Else, if set, another argument
// whose value would do instead. The command line names the flags, where
// they gave the arguments.
type ArgError struct {
	Owner, Key, Value, Want string
	Else                    *ArgValue
}

// ArgValue is a value of Owner's argument Key.
type ArgValue struct{ Owner, Key, Value string }

func (e *ArgError) Error() string {
	s := fmt.Sprintf("%s: %s = %s: %s", e.Owner, e.Key, e.Value, e.Want)
	if o := e.Else; o != nil {
		s += fmt.Sprintf(" (or %s's %s = %s)", o.Owner, o.Key, o.Value)
	}
	return s
}

// bad records that argument key has the value v, not what want says.
func (r *argReader) bad(key string, v any, want string, args ...any) {
	if r.err == nil {
		r.err = &ArgError{Owner: r.owner, Key: key, Value: fmt.Sprint(v), Want: fmt.Sprintf(want, args...)}
	}
}

func (r *argReader) fail(format string, v ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(r.owner+": "+format, v...)
	}
}

// MissingError is a required argument absent, or null (Keras's None).
type MissingError struct {
	Owner, Key string
	Null       bool
}

func (e *MissingError) Error() string {
	if e.Null {
		return fmt.Sprintf("%s: %s is null: it has no default, give a value", e.Owner, e.Key)
	}
	return fmt.Sprintf("%s: %s is missing: it has no default, give it", e.Owner, e.Key)
}

// needed records the first of keys absent or null: arguments without a
// default, which would otherwise read as 0 ("decay_steps = 0").
func (r *argReader) needed(keys ...string) {
	for _, k := range keys {
		v, ok := r.args[k]
		if r.err == nil && (!ok || v == nil) {
			r.err = &MissingError{Owner: r.owner, Key: k, Null: ok}
		}
	}
}

// get returns the argument key, or nil when absent or None.
func (r *argReader) get(key string) any {
	r.used[key] = true
	return r.args[key]
}

func (r *argReader) number(key string) (float64, bool) {
	switch v := r.get(key).(type) {
	case nil:
		return 0, false
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	default:
		r.bad(key, v, "want a number")
		return 0, false
	}
}

// float returns the number key (def when absent), checked to lie in
// [lo, hi] and be finite.
// beta is the float argument key in [0, 1) (default def): one that
// float32 rounds to 1 is refused, since then (why) the step fails.
func (r *argReader) beta(key string, def float64, why string) float64 {
	v := r.float(key, def, 0, 1)
	if float32(v) == 1 {
		r.bad(key, v, "want [0, 1): at 1 (or within float32's rounding of it) %s", why)
	}
	return v
}

// divideByBeta1 is beta's why for an optimizer dividing by 1-beta_1^t.
const divideByBeta1 = "the step divides by its bias correction 1-beta_1^t, which is 0"

func (r *argReader) float(key string, def, lo, hi float64) float64 {
	v, ok := r.number(key)
	if !ok {
		return def
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
		r.bad(key, v, "want a number from %g to %g", lo, hi)
		return def
	}
	return v
}

// value returns the number key (def when absent), which the caller checks.
func (r *argReader) value(key string, def float64) float64 {
	if v, ok := r.number(key); ok {
		return v
	}
	return def
}

// positive returns the number key (def when absent), which must be > 0.
func (r *argReader) positive(key string, def float64) float64 {
	v, ok := r.number(key)
	if !ok {
		return def
	}
	if !(v > 0) || math.IsInf(v, 0) {
		r.bad(key, v, "want a number > 0")
		return def
	}
	return v
}

// integer returns the whole number key (def when absent) in [lo, hi].
func (r *argReader) integer(key string, def, lo, hi int64) int64 {
	v, ok := r.number(key)
	if !ok {
		return def
	}
	if v != math.Trunc(v) || v < float64(lo) || v > float64(hi) {
		r.bad(key, v, "want a whole number from %d to %d", lo, hi)
		return def
	}
	return int64(v)
}

func (r *argReader) boolean(key string, def bool) bool {
	switch v := r.get(key).(type) {
	case nil:
		return def
	case bool:
		return v
	default:
		r.bad(key, v, "want true or false")
		return def
	}
}

func (r *argReader) str(key, def string) string {
	switch v := r.get(key).(type) {
	case nil:
		return def
	case string:
		return v
	default:
		r.bad(key, v, "want a string")
		return def
	}
}

// finish reports the first bad argument, or the arguments not read.
func (r *argReader) finish() error {
	if r.err != nil {
		return r.err
	}
	var unknown []string
	for k := range r.args {
		if !r.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return &UnknownArgError{Owner: r.owner, Keys: unknown, Known: r.known()}
	}
	return nil
}

// known lists the arguments read, sorted.
func (r *argReader) known() []string {
	var known []string
	for k := range r.used {
		known = append(known, k)
	}
	sort.Strings(known)
	return known
}

// ConflictError is arguments of Owner, by their Keras names, of which only
// one may be set: Keys are those set; Why says why. The command line
// names their flags, where they gave them all.
type ConflictError struct {
	Owner string
	Keys  []string
	Why   string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s: only one of %s can be set (%s)", e.Owner, strings.Join(e.Keys, ", "), e.Why)
}

// UnknownArgError is arguments that the optimizer or schedule Owner does
// not have: Keys, sorted; Known lists those it takes.
type UnknownArgError struct {
	Owner       string
	Keys, Known []string
}

func (e *UnknownArgError) Error() string {
	return fmt.Sprintf("%s has no argument %s (it takes %s)", e.Owner, strings.Join(e.Keys, ", "), strings.Join(e.Known, ", "))
}
