package tensor

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolRunsEveryTaskOnce covers loops of every size, back to back and
// after the workers have parked.
func TestPoolRunsEveryTaskOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 4} {
		p := NewPool(threads)
		for round, n := range []int{0, 1, 2, 3, 7, 64, 1000} {
			if round == 4 {
				time.Sleep(2 * spinFor) // let the workers park
			}
			counts := make([]atomic.Int32, n)
			p.For(n, func(i int) { counts[i].Add(1) })
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("threads %d, n %d: task %d ran %d times", threads, n, i, c)
				}
			}
		}
		p.Close()
	}
}
