package safetensors_test

import (
	"bytes"
	"fmt"

	"github.com/cifarnet/cifarnet/safetensors"
)

func ExampleWrite() {
	var buf bytes.Buffer
	err := safetensors.Write(&buf, []safetensors.Tensor{
		{Name: "dense/kernel", Shape: []int{2, 1}, Data: []float32{0.5, -1}},
		{Name: "dense/bias", Shape: []int{1}, Data: []float32{0.25}},
	}, map[string]string{"framework": "cifarnet"})
	if err != nil {
		panic(err)
	}
	f, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		panic(err)
	}
	for _, t := range f.Tensors {
		fmt.Println(t.Name, t.Shape, t.Data)
	}
	// Output:
	// dense/kernel [2 1] [0.5 -1]
	// dense/bias [1] [0.25]
}
