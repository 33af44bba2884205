package dataset

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cifarnet/cifarnet/internal/quote"
)

// The Python versions of CIFAR-10 and CIFAR-100 (what Keras downloads and
// caches) store each batch as a pickled dict: b'data' a numpy uint8 array
// of shape (n, 3072), planar RGB rows as in the binary format, and the
// labels as lists of ints (CIFAR-10's b'labels', CIFAR-100's
// b'fine_labels' and b'coarse_labels'); CIFAR-100's meta file holds the
// label names. Unpickling in Python runs code; this reader runs none. It is a
// small stack machine for the opcodes such a file uses (protocols 2-4,
// written by Python 2's cPickle or Python 3), which builds plain values and
// allows exactly three globals, the ones numpy's array pickling names, and
// refuses anything else.

// Values of the stack machine.
type (
	pyGlobal struct{ module, name string }
	pyMark   struct{}
	pyTuple  []any
	PyList   struct{ Items []any }
	PyDict   struct{ Items map[string]any }
	pyCall   struct { // a REDUCE of an allowed global: an array or a dtype in the making
		fn   pyGlobal
		args pyTuple
	}
	PyArray struct {
		Shape []int64
		Dtype string // numpy's dtype string: "u1" for uint8
		Data  []byte
	}
	pyDtype struct{ str string }
)

var allowedGlobals = map[pyGlobal]bool{
	{"numpy.core.multiarray", "_reconstruct"}:  true,
	{"numpy._core.multiarray", "_reconstruct"}: true,
	{"numpy", "ndarray"}:                       true,
	{"numpy", "dtype"}:                         true,
}

// MaxPickle bounds the input a batch may have (an official CIFAR-10 batch
// is 31 MB, CIFAR-100's train file 155 MB).
const MaxPickle = 256 << 20

// ErrPickle is wrapped by every error of Unpickle.
var ErrPickle = errors.New("not a CIFAR Python batch")

// maxOps bounds the opcodes a batch may run, and with them the values it
// makes (a few dozen bytes each, whatever the input): an official batch
// runs about 30,000 (CIFAR-100's training batch about 210,000). Without
// it a crafted pickle of two-byte opcodes makes gigabytes of values.
const maxOps = 1 << 19

// maxKey bounds a dict key (a batch's keys are words like b'labels').
const maxKey = 64

func pickleErr(format string, args ...any) error {
	// A crafted pickle's values can be megabytes: the message keeps a prefix.
	return fmt.Errorf("%w: %s", ErrPickle, quote.Line(fmt.Sprintf(format, args...), 4*quote.Max))
}

// Unpickle parses b and returns the top-level value. Dicts come back as
// *PyDict (string or bytes keys, as strings), lists as *PyList, numpy
// arrays as *PyArray, ints as int64, strings as string or []byte.
func Unpickle(b []byte) (any, error) {
	if len(b) > MaxPickle {
		return nil, pickleErr("%d bytes, more than a batch can have", len(b))
	}
	var stack []any
	memo := map[int64]any{}
	pos := 0
	need := func(n int) ([]byte, error) {
		if n < 0 || n > len(b)-pos {
			return nil, pickleErr("truncated at byte %d", pos)
		}
		s := b[pos : pos+n]
		pos += n
		return s, nil
	}
	pop := func() (any, error) {
		if len(stack) == 0 {
			return nil, pickleErr("stack underflow at byte %d", pos)
		}
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return v, nil
	}
	// pop2 pops the top two values: below, then top.
	pop2 := func() (below, top any, err error) {
		if len(stack) < 2 {
			return nil, nil, pickleErr("stack underflow at byte %d", pos)
		}
		below, top = stack[len(stack)-2], stack[len(stack)-1]
		stack = stack[:len(stack)-2]
		return below, top, nil
	}
	popMark := func() ([]any, error) {
		for i := len(stack) - 1; i >= 0; i-- {
			if _, ok := stack[i].(pyMark); ok {
				items := append([]any(nil), stack[i+1:]...)
				stack = stack[:i]
				return items, nil
			}
		}
		return nil, pickleErr("no mark at byte %d", pos)
	}
	uint := func(n int) (uint64, error) {
		s, err := need(n)
		if err != nil {
			return 0, err
		}
		var v uint64
		for i := n - 1; i >= 0; i-- {
			v = v<<8 | uint64(s[i])
		}
		return v, nil
	}
	bytesN := func(lenBytes int) ([]byte, error) {
		n, err := uint(lenBytes)
		if err != nil {
			return nil, err
		}
		if n > uint64(len(b)) {
			return nil, pickleErr("truncated: length %d at byte %d runs past the end", n, pos)
		}
		return need(int(n))
	}
	line := func() (string, error) {
		for i := pos; i < len(b); i++ {
			if b[i] == '\n' {
				s := string(b[pos:i])
				pos = i + 1
				return s, nil
			}
		}
		return "", pickleErr("unterminated line at byte %d", pos)
	}
	for ops := 0; ; ops++ {
		if ops >= maxOps {
			return nil, pickleErr("more than %d opcodes, more than a batch runs", maxOps)
		}
		op, err := need(1)
		if err != nil {
			return nil, err
		}
		switch op[0] {
		case 0x80: // PROTO
			if _, err := need(1); err != nil {
				return nil, err
			}
		case 0x95: // FRAME
			if _, err := need(8); err != nil {
				return nil, err
			}
		case '.': // STOP
			if len(stack) != 1 {
				return nil, pickleErr("%d values left at STOP", len(stack))
			}
			return stack[0], nil
		case '(':
			stack = append(stack, pyMark{})
		case '}':
			stack = append(stack, &PyDict{Items: map[string]any{}})
		case ']':
			stack = append(stack, &PyList{})
		case ')':
			stack = append(stack, pyTuple{})
		case 't':
			items, err := popMark()
			if err != nil {
				return nil, err
			}
			stack = append(stack, pyTuple(items))
		case 0x85, 0x86, 0x87: // TUPLE1..3
			n := int(op[0] - 0x84)
			if len(stack) < n {
				return nil, pickleErr("stack underflow at byte %d", pos)
			}
			t := append(pyTuple(nil), stack[len(stack)-n:]...)
			stack = append(stack[:len(stack)-n], t)
		case 'J':
			v, err := uint(4)
			if err != nil {
				return nil, err
			}
			stack = append(stack, int64(int32(v)))
		case 'K':
			v, err := uint(1)
			if err != nil {
				return nil, err
			}
			stack = append(stack, int64(v))
		case 'M':
			v, err := uint(2)
			if err != nil {
				return nil, err
			}
			stack = append(stack, int64(v))
		case 0x8a: // LONG1
			s, err := bytesN(1)
			if err != nil {
				return nil, err
			}
			if len(s) > 8 {
				return nil, pickleErr("integer of %d bytes", len(s))
			}
			var v int64
			for i := len(s) - 1; i >= 0; i-- {
				v = v<<8 | int64(s[i])
			}
			if len(s) > 0 && len(s) < 8 && s[len(s)-1]&0x80 != 0 {
				v -= 1 << (8 * len(s))
			}
			stack = append(stack, v)
		case 'G':
			v, err := need(8)
			if err != nil {
				return nil, err
			}
			stack = append(stack, math.Float64frombits(binary.BigEndian.Uint64(v)))
		case 'N':
			stack = append(stack, nil)
		case 0x88, 0x89:
			stack = append(stack, op[0] == 0x88)
		case 'T', 'B': // BINSTRING, BINBYTES: 4-byte length
			s, err := bytesN(4)
			if err != nil {
				return nil, err
			}
			stack = append(stack, s)
		case 'U', 'C': // SHORT_BINSTRING, SHORT_BINBYTES
			s, err := bytesN(1)
			if err != nil {
				return nil, err
			}
			stack = append(stack, s)
		case 0x8e: // BINBYTES8
			s, err := bytesN(8)
			if err != nil {
				return nil, err
			}
			stack = append(stack, s)
		case 'X': // BINUNICODE
			s, err := bytesN(4)
			if err != nil {
				return nil, err
			}
			stack = append(stack, string(s))
		case 0x8c: // SHORT_BINUNICODE
			s, err := bytesN(1)
			if err != nil {
				return nil, err
			}
			stack = append(stack, string(s))
		case 0x8d: // BINUNICODE8
			s, err := bytesN(8)
			if err != nil {
				return nil, err
			}
			stack = append(stack, string(s))
		case 'c': // GLOBAL module\nname\n
			mod, err := line()
			if err != nil {
				return nil, err
			}
			name, err := line()
			if err != nil {
				return nil, err
			}
			g := pyGlobal{mod, name}
			if !allowedGlobals[g] {
				return nil, pickleErr("refusing global %s.%s", quote.Line(mod, quote.Max), quote.Line(name, quote.Max))
			}
			stack = append(stack, g)
		case 0x93: // STACK_GLOBAL
			modV, nameV, err := pop2()
			if err != nil {
				return nil, err
			}
			mod, ok1 := modV.(string)
			name, ok2 := nameV.(string)
			g := pyGlobal{mod, name}
			if !ok1 || !ok2 || !allowedGlobals[g] {
				return nil, pickleErr("refusing global %s.%s", PyShort(modV), PyShort(nameV))
			}
			stack = append(stack, g)
		case 'R': // REDUCE: only of allowed globals, recorded, not called
			fnV, argsV, err := pop2()
			if err != nil {
				return nil, err
			}
			fn, ok := fnV.(pyGlobal)
			args, ok2 := argsV.(pyTuple)
			if !ok || !ok2 {
				return nil, pickleErr("REDUCE of %T at byte %d", fnV, pos)
			}
			v, err := reduce(fn, args)
			if err != nil {
				return nil, err
			}
			stack = append(stack, v)
		case 'b': // BUILD: set the state of an array or dtype
			state, err := pop()
			if err != nil {
				return nil, err
			}
			if len(stack) == 0 {
				return nil, pickleErr("stack underflow at byte %d", pos)
			}
			if err := build(stack[len(stack)-1], state); err != nil {
				return nil, err
			}
		case 'q', 0x94, 'r': // BINPUT, MEMOIZE, LONG_BINPUT
			var idx uint64
			switch op[0] {
			case 'q':
				idx, err = uint(1)
			case 'r':
				idx, err = uint(4)
			default:
				idx = uint64(len(memo))
			}
			if err != nil {
				return nil, err
			}
			if len(stack) == 0 {
				return nil, pickleErr("stack underflow at byte %d", pos)
			}
			memo[int64(idx)] = stack[len(stack)-1]
		case 'h', 'j': // BINGET, LONG_BINGET
			n := 1
			if op[0] == 'j' {
				n = 4
			}
			idx, err := uint(n)
			if err != nil {
				return nil, err
			}
			v, ok := memo[int64(idx)]
			if !ok {
				return nil, pickleErr("memo %d unset at byte %d", idx, pos)
			}
			stack = append(stack, v)
		case 'a', 'e': // APPEND, APPENDS
			var items []any
			if op[0] == 'a' {
				v, err := pop()
				if err != nil {
					return nil, err
				}
				items = []any{v}
			} else if items, err = popMark(); err != nil {
				return nil, err
			}
			if len(stack) == 0 {
				return nil, pickleErr("stack underflow at byte %d", pos)
			}
			l, ok := stack[len(stack)-1].(*PyList)
			if !ok {
				return nil, pickleErr("APPEND to %T", stack[len(stack)-1])
			}
			l.Items = append(l.Items, items...)
		case 's', 'u': // SETITEM, SETITEMS
			var items []any
			if op[0] == 's' {
				if len(stack) < 2 {
					return nil, pickleErr("stack underflow at byte %d", pos)
				}
				items = append(items, stack[len(stack)-2:]...)
				stack = stack[:len(stack)-2]
			} else if items, err = popMark(); err != nil {
				return nil, err
			}
			if len(stack) == 0 || len(items)%2 != 0 {
				return nil, pickleErr("bad SETITEMS at byte %d", pos)
			}
			d, ok := stack[len(stack)-1].(*PyDict)
			if !ok {
				return nil, pickleErr("SETITEM on %T", stack[len(stack)-1])
			}
			for i := 0; i < len(items); i += 2 {
				if k, ok := asBytesLen(items[i]); ok && k > maxKey {
					return nil, pickleErr("dict key of %d bytes", k)
				}
				switch k := items[i].(type) {
				case string:
					d.Items[k] = items[i+1]
				case []byte:
					d.Items[string(k)] = items[i+1]
				default:
					return nil, pickleErr("dict key of type %T", k)
				}
			}
		default:
			return nil, pickleErr("unsupported opcode 0x%02x at byte %d", op[0], pos-1)
		}
	}
}

// reduce records a call of an allowed global: _reconstruct(ndarray, ...)
// makes an empty array and dtype(str, ...) a dtype; BUILD fills them.
func reduce(fn pyGlobal, args pyTuple) (any, error) {
	switch fn.name {
	case "_reconstruct":
		if len(args) < 1 || args[0] != (pyGlobal{"numpy", "ndarray"}) {
			return nil, pickleErr("_reconstruct of something other than ndarray")
		}
		return &PyArray{}, nil
	case "dtype":
		if len(args) < 1 {
			return nil, pickleErr("dtype without arguments")
		}
		s, ok := asString(args[0])
		if !ok {
			return nil, pickleErr("dtype of %T", args[0])
		}
		return &pyDtype{s}, nil
	}
	return nil, pickleErr("call of %s.%s", fn.module, fn.name)
}

// build applies a BUILD state: an array's (version, shape, dtype,
// fortran, data); a dtype's state is accepted and ignored (byte order and
// flags do not matter for uint8).
func build(target, state any) error {
	switch t := target.(type) {
	case *pyDtype:
		return nil
	case *PyArray:
		st, ok := state.(pyTuple)
		if !ok || len(st) != 5 {
			return pickleErr("array state is not a 5-tuple")
		}
		shape, ok := st[1].(pyTuple)
		if !ok {
			return pickleErr("array shape of type %T", st[1])
		}
		for _, d := range shape {
			v, ok := d.(int64)
			if !ok || v < 0 {
				return pickleErr("array dimension %s", PyShort(d))
			}
			t.Shape = append(t.Shape, v)
		}
		dt, ok := st[2].(*pyDtype)
		if !ok {
			return pickleErr("array dtype of type %T", st[2])
		}
		t.Dtype = dt.str
		if fortran, _ := st[3].(bool); fortran {
			return pickleErr("Fortran-ordered array")
		}
		data, ok := st[4].([]byte)
		if !ok {
			if s, isStr := st[4].(string); isStr { // Python 2 str read as text
				data = []byte(s)
			} else {
				return pickleErr("array data of type %T", st[4])
			}
		}
		t.Data = data
		return nil
	}
	return pickleErr("BUILD of %T", target)
}

// asBytesLen returns the length of a string or bytes value.
func asBytesLen(v any) (int, bool) {
	switch s := v.(type) {
	case string:
		return len(s), true
	case []byte:
		return len(s), true
	}
	return 0, false
}

// PyShort describes a value for an error: a number as it is, a string as a
// short quote, anything else by its type.
func PyShort(v any) string {
	switch s := v.(type) {
	case int64, float64, bool, nil:
		return fmt.Sprint(s)
	case string:
		return quote.Short(s)
	case []byte:
		return quote.Short(string(s[:min(len(s), quote.Max+1)]))
	}
	return fmt.Sprintf("of type %T", v)
}

func asString(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case []byte:
		return string(s), true
	}
	return "", false
}
