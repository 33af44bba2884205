//go:build openblas

// Command openblas times OpenBLAS's cblas_sgemm and cifarnet's Gemm side by
// side, in one process, at the matrix products of the exercise, with one
// and with two threads, and prints the ratio. It needs cgo and OpenBLAS
// (Debian: libopenblas-dev), so it builds only with -tags openblas:
//
//	go run -tags openblas ./bench/openblas [-rounds N] [WORD]
//
// With WORD, only the products whose name contains it (e.g. mnist). Each
// product is timed in N rounds (default 5) that alternate the libraries; the
// line gives the best times and the median and range of the rounds' ratios
// (by the thread's CPU time with one thread, by the clock with two), the
// figure to judge by on a shared machine, whose speed drifts within seconds.
//
// OpenBLAS picks its kernels by CPU model, or as OPENBLAS_CORETYPE says;
// the program prints the core it runs. Where an environment forces an older
// core (this workplace sets Haswell on some CPUs), unset OPENBLAS_CORETYPE
// and OPENBLAS_L2_SIZE for this command to measure OpenBLAS at its best, as
// bench/compare.sh does (Debian's 0.3.21 then runs its Cooperlake AVX-512
// kernels on Zen 5, much faster than its Haswell ones: BENCHMARKS.md).
//
// The one-thread pass runs with the calling goroutine locked to its thread
// (for the thread's CPU time); the two-thread pass unlocks it, as training
// runs, since a locked caller slows the Go pool's hand-offs.
//
// Both libraries keep their worker threads spinning for a while after a
// call, which would steal the cores from the other: the program pauses
// between the two libraries' timings until the other's threads sleep.
package main

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
void openblas_set_num_threads(int);
*/
import "C"

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/cifarnet/cifarnet/tensor"
)

type shape struct {
	name           string
	transA, transB bool
	m, n, k        int
}

// The products of one training step of the exercise (batch 128) and of
// evaluation, as Dense computes them: validation runs in batches of 128
// (the last of 1000 samples has 104), the final evaluation in Keras's
// batches of 32.
var shapes = []shape{
	{"fwd X·W1", false, false, 128, 256, 3072},
	{"dW1 Xᵀ·dZ", true, false, 3072, 256, 128},
	{"fwd H·W", false, false, 128, 256, 256},
	{"dW Hᵀ·dZ", true, false, 256, 256, 128},
	{"dX dZ·Wᵀ", false, true, 128, 256, 256},
	{"fwd H·W5", false, false, 128, 10, 256},
	{"dW5 Hᵀ·dZ", true, false, 256, 10, 128},
	{"dX dZ·W5ᵀ", false, true, 128, 256, 10},
	{"val X·W1", false, false, 104, 256, 3072},
	{"val H·W", false, false, 104, 256, 256},
	{"val H·W5", false, false, 104, 10, 256},
	{"eval X·W1", false, false, 32, 256, 3072},
	{"eval H·W", false, false, 32, 256, 256},
	{"eval H·W5", false, false, 32, 10, 256},
	// MNIST's first layer (784 inputs; the other layers are as above): a
	// training step, the last validation batch of 12,000 (96) and
	// evaluation in batches of 32 (the last of 10,000 has 16).
	{"mnist X·W1", false, false, 128, 256, 784},
	{"mnist dW1", true, false, 784, 256, 128},
	{"mnist val X·W1", false, false, 96, 256, 784},
	{"mnist eval X·W1", false, false, 32, 256, 784},
	{"mnist eval 16", false, false, 16, 256, 784},
}

// best returns the least time of one call over reps rounds of 10 calls, by
// the clock and by the calling thread's CPU time. With one thread both
// libraries compute on the calling thread (main locks it), so its CPU time
// leaves out the time other processes held the core: the figure to compare
// on a busy machine (it still includes what they did to the caches).
func best(reps int, f func()) (wall, cpu time.Duration) {
	f()
	wall, cpu = time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for range reps {
		st, sc := time.Now(), threadCPU()
		for range 10 {
			f()
		}
		wall, cpu = min(wall, time.Since(st)/10), min(cpu, (threadCPU()-sc)/10)
	}
	return wall, cpu
}

func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}

// settle gives the other library's spinning threads time to go to sleep
// (OpenBLAS spins for about 2^28 cycles after a call).
func settle() { time.Sleep(300 * time.Millisecond) }

var rounds = flag.Int("rounds", 5, "rounds alternating the two libraries per product")

func main() {
	flag.Parse()
	if *rounds < 1 || *rounds > 1000 {
		fmt.Fprintln(os.Stderr, "openblas: -rounds must be 1 to 1000")
		os.Exit(2)
	}
	fmt.Printf("OpenBLAS %s, core %s\n", C.GoString(C.openblas_get_config()), C.GoString(C.openblas_get_corename()))
	runtime.LockOSThread()
	fmt.Printf("%-8s %-16s %12s %10s %10s %7s   %s\n", "threads", "product", "m x n x k", "OpenBLAS", "cifarnet", "ratio",
		"by thread CPU time (1 thread): OpenBLAS cifarnet ratio")
	for _, threads := range []int{1, 2} {
		if threads > 1 {
			// Training never locks its goroutine to a thread; with two
			// threads (timed by the clock) a locked caller makes the Go
			// scheduler hand its P over whenever the pool's wait yields,
			// which slowed cifarnet's two-thread products (BENCHMARKS.md).
			runtime.UnlockOSThread()
		}
		C.openblas_set_num_threads(C.int(threads))
		e := tensor.NewEngine(threads)
		for _, s := range shapes {
			if flag.NArg() > 0 && !strings.Contains(s.name, flag.Arg(0)) {
				continue
			}
			r := rand.New(rand.NewPCG(1, 2))
			ra, ca := s.m, tensor.PaddedStride(s.k) // the batch stride training uses
			if s.transA {
				ra, ca = s.k, s.m
			}
			rb, cb := s.k, s.n
			if s.transB {
				rb, cb = s.n, s.k
			}
			a, b := make([]float32, ra*ca), make([]float32, rb*cb)
			for i := range a {
				a[i] = float32(r.NormFloat64())
			}
			for i := range b {
				b[i] = float32(r.NormFloat64())
			}
			c1, c2 := make([]float32, s.m*s.n), make([]float32, s.m*s.n)
			ta, tb := C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans), C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans)
			if s.transA {
				ta = C.CblasTrans
			}
			if s.transB {
				tb = C.CblasTrans
			}
			// Rounds alternate the two libraries (A B A B ...), so that a slow
			// minute of a shared machine falls on both; each round's ratio is
			// kept and their median reported beside the best times.
			blas, blasCPU := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
			ours, oursCPU := blas, blas
			ratios := make([]float64, 0, *rounds)
			for range *rounds {
				settle()
				bw, bc := best(5, func() {
					C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(s.m), C.blasint(s.n), C.blasint(s.k), 1,
						(*C.float)(unsafe.Pointer(&a[0])), C.blasint(ca), (*C.float)(unsafe.Pointer(&b[0])), C.blasint(cb), 0,
						(*C.float)(unsafe.Pointer(&c1[0])), C.blasint(s.n))
				})
				settle()
				ow, oc := best(5, func() { e.Gemm(s.transA, s.transB, s.m, s.n, s.k, a, ca, b, cb, c2, s.n, false) })
				blas, blasCPU, ours, oursCPU = min(blas, bw), min(blasCPU, bc), min(ours, ow), min(oursCPU, oc)
				if threads == 1 {
					ratios = append(ratios, float64(bc)/float64(oc))
				} else {
					ratios = append(ratios, float64(bw)/float64(ow))
				}
			}
			for i := range c1 {
				if d := c1[i] - c2[i]; d > 1e-2 || d < -1e-2 {
					fmt.Fprintf(os.Stderr, "%s: results differ at %d: %g vs %g\n", s.name, i, c1[i], c2[i])
					os.Exit(1)
				}
			}
			slices.Sort(ratios)
			gf := func(d time.Duration) float64 { return 2 * float64(s.m*s.n*s.k) / d.Seconds() / 1e9 }
			fmt.Printf("%-8d %-16s %12s %7.1f GF %7.1f GF %6.2fx", threads, s.name, fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k),
				gf(blas), gf(ours), gf(ours)/gf(blas))
			if threads == 1 {
				fmt.Printf("   %7.1f GF %7.1f GF %6.2fx", gf(blasCPU), gf(oursCPU), gf(oursCPU)/gf(blasCPU))
			}
			fmt.Printf("   rounds' ratio: median %.2fx, %.2f-%.2fx\n", ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1])
		}
		e.Close()
	}
}
