// Package e2e holds the end-to-end tests of the robot runtime over the real
// embedded broker (broker.New on 127.0.0.1): simulated robots, each with the
// real pilot, control loop and paho link, drive routes that the test, playing
// the orchestrator, publishes on robots/{id}/cmd.
//
// What they check: checkpoints arrive in route order, each step once in
// effect (the receiving side dedupes by robot, epoch and step; QoS 1 may
// redeliver); a broker restart loses no checkpoint; while the broker is down
// every robot is stopped, and after it comes back the robots stay stopped
// until a fresh directive. Units: metres, radians, seconds of sim time; the
// world runs in real time at a time scale >1. There is no non-test code here.
package e2e
