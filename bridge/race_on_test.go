//go:build race

package bridge

// raceEnabled: the race detector is on; it multiplies memory use, so
// tests that measure the heap skip themselves.
const raceEnabled = true
