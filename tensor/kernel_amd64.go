//go:build amd64 && !purego

package tensor

import "golang.org/x/sys/cpu"

//go:generate sh -c "cd _asm && go run . -pkg tensor -out ../kernel_amd64.s -stubs ../kernel_stubs_amd64.go"

var (
	avx512Kernel = kernel{name: "avx512", mr: 12, nr: 32, fn: kernelAVX512}
	avx2Kernel   = kernel{name: "avx2", mr: 6, nr: 16, fn: kernelAVX2}
)

func bestKernel() kernel { k := kernels(); return k[len(k)-1] }

// kernels lists every micro-kernel this CPU can run, best last.
func kernels() []kernel {
	ks := []kernel{genericKernel}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel)
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ {
		ks = append(ks, avx512Kernel)
	}
	return ks
}
