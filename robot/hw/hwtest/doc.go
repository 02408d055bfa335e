// Package hwtest holds fakes of the hardware seams in package hw, for unit
// tests: a scripted Detector, a recording Drive and a manual Clock. They are
// safe for concurrent use, so that a test can drive them from one goroutine
// while the code under test reads them from another.
package hwtest
