//go:build amd64 && !purego

package tensor

import (
	"reflect"
	"testing"
)

// TestAVX512TwinPlan checks that avx512Twin plans as avx512Kernel does:
// every field but the name the same, the kernels set where they are set
// (and edge kernels of the same heights), the narrow pair likewise. It
// fails when avx512Kernel's plan changes and the twin does not.
func TestAVX512TwinPlan(t *testing.T) {
	var same func(path string, twin, real reflect.Value)
	same = func(path string, twin, real reflect.Value) {
		switch real.Kind() {
		case reflect.Func:
			if twin.IsNil() != real.IsNil() {
				t.Errorf("%s: twin set %v, avx512Kernel set %v", path, !twin.IsNil(), !real.IsNil())
			}
		case reflect.Slice:
			if twin.Len() != real.Len() {
				t.Errorf("%s: twin has %d, avx512Kernel %d", path, twin.Len(), real.Len())
				return
			}
			for i := range real.Len() {
				same(path, twin.Index(i), real.Index(i))
			}
		case reflect.Pointer:
			if twin.IsNil() != real.IsNil() {
				t.Errorf("%s: twin set %v, avx512Kernel set %v", path, !twin.IsNil(), !real.IsNil())
				return
			}
			if !real.IsNil() {
				same(path, twin.Elem(), real.Elem())
			}
		case reflect.Struct:
			for i := range real.NumField() {
				if f := real.Type().Field(i).Name; f != "name" {
					same(path+"."+f, twin.Field(i), real.Field(i))
				}
			}
		default:
			if !twin.Equal(real) {
				t.Errorf("%s: twin %v, avx512Kernel %v", path, twin, real)
			}
		}
	}
	same("kernel", reflect.ValueOf(avx512Twin), reflect.ValueOf(avx512Kernel))
}
