package faults

import (
	"testing"

	"collaborate/internal/testkit"
)

// The Python example robot (examples/python-robot), written from the
// contract alone, drives its mission in a fleet with three Go robots, the
// orchestrator and its embedded broker, in the world served to robot
// processes: every mission done, 0 collisions in the world's truth, each
// robot's checkpoints recorded once and in order. Not in parallel with
// the other fleets: one more would load the machine they share.
func TestPythonRobotInFleet(t *testing.T) {
	testkit.PythonWithPaho(t)
	f := start(t, options{python: []string{"r4"}})
	f.waitDone()
	f.finish()
}
