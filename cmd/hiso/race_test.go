//go:build race

package main

// raceEnabled: the test binary runs under the race detector, and so does
// the hiso binary that the end-to-end tests build.
const raceEnabled = true
