//go:build race

package experiment

// raceDetector tells whether the tests run under the race detector, which
// slows Go code (a run's report) far more than the assembly that trains.
const raceDetector = true
