package train_test

import (
	"fmt"
	"os"

	"github.com/cifarnet/cifarnet/cifar10"
	"github.com/cifarnet/cifarnet/train"
)

// Keras's validation_split=0.2 keeps floor(5000 * 0.8) samples for training.
func ExampleSplitAt() {
	fmt.Println(train.SplitAt(5000, 0.2))
	// Output: 4000
}

// The exercise: load the data, train, evaluate.
func ExampleFitAndEvaluate() {
	data, err := cifar10.Load("../shared/cifar-10-batches-bin", 5000, 1000)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := train.FitAndEvaluate(train.Exercise(), data, &train.Progress{W: os.Stdout})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("Test accuracy: %.4f after %d epochs\n", out.Test.Accuracy, out.EpochsRun())
}
