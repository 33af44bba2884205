package tensor_test

import (
	"fmt"

	"github.com/cifarnet/cifarnet/tensor"
)

// Gemm multiplies row-major matrices; transposes are flags, as in BLAS.
func ExampleEngine_Gemm() {
	e := tensor.NewEngine(1)
	defer e.Close()
	a := []float32{1, 2, 3, 4, 5, 6} // 2x3
	b := []float32{1, 0, 0, 1, 1, 1} // 3x2
	c := make([]float32, 4)          // 2x2
	e.Gemm(false, false, 2, 2, 3, a, 3, b, 2, c, 2, false)
	fmt.Println(c)
	// Output: [4 5 10 11]
}
