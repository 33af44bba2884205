//go:build amd64 && !purego

package tensor

func bestKernel() kernel { k := kernels(); return k[len(k)-1] }

// kernels lists every micro-kernel usable on this CPU, best last.
func kernels() []kernel { return []kernel{genericKernel} }
