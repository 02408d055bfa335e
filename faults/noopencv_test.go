//go:build !opencv

package faults

// withOpenCV: the suite's tests of rendered frames need the robot built
// with OpenCV (go test -tags opencv ./faults).
const withOpenCV = false
