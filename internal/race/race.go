//go:build race

// Package race tells whether the program was built with the race
// detector (go test -race), which slows Go code far more than assembly and
// makes sync.Pool drop some of what it is given: tests that depend on
// either skip themselves under it.
package race

// Enabled is true when the race detector is on.
const Enabled = true
