//go:build !amd64 || purego

package tensor

func bestKernel() kernel { return genericKernel }

// kernels lists every micro-kernel usable on this CPU, best last.
func kernels() []kernel { return []kernel{genericKernel} }
