//go:build race

package train

// raceDetector tells whether the tests run under the race detector, under
// which a sync.Pool drops some of what it is given (so a Get allocates).
const raceDetector = true
