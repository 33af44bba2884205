// Package memtest measures what a call allocates, for tests that bound the
// memory a reader takes by the size of its input.
package memtest

import "runtime"

// Allocated returns the bytes f allocates on the heap in total: an upper
// bound of the peak it adds, whatever the garbage collector does.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
