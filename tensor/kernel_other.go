//go:build !amd64 || purego

package tensor

func bestKernel() kernel { return genericKernel }

// kernels lists every micro-kernel usable on this CPU, best last.
func kernels() []kernel { return []kernel{genericKernel} }

func bestSIMD() simd { return genericSIMD }

// simds lists every elementwise kernel set usable on this CPU, best last.
func simds() []simd { return []simd{genericSIMD} }
