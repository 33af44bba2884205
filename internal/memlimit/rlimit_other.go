//go:build !unix

package memlimit

func addressSpace() (int64, bool) { return 0, false }
