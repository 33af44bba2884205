package cifar10_test

import (
	"fmt"

	"github.com/cifarnet/cifarnet/cifar10"
)

// Load the exercise's subset from an extracted directory (or the .tar.gz).
func ExampleLoad() {
	data, err := cifar10.Load("cifar-10-batches-bin", 5000, 1000)
	if err != nil {
		fmt.Println(err)
		return
	}
	x := data.Train.Float32() // 5000 x 3072, channels-last, pixels/255
	fmt.Println(len(x), data.Train.Labels[:5])
}
