// Package conform is the conformance kit: it checks a robot, whatever its
// language, against the robot rules of the contract (topics.RobotRules,
// info.x-robot-rules of asyncapi.yaml) over a real broker, from the
// outside, the way a protocol's conformance tool does.
//
// The kit plays the orchestrator's side. It starts an embedded broker
// (package broker) on loopback with an account for the robot, and puts an
// MQTT-aware proxy in front of it: the robot connects to the proxy, so the
// kit sees every packet the robot sends (CONNECT with its will and
// keepalive, SUBSCRIBE, each PUBLISH with its QoS and retain flag) before
// the broker judges it, can refuse a SUBACK and can cut the link. Robots
// that need a body get one in a simulated world served in the kit's
// process (package robot/world, the `robot --hw sitl` protocol); the
// world's ground truth, the motor commands the robot gives and where its
// body really is, sampled with wall timestamps, is what the motion checks
// judge. Without a world they judge the robot's own poses and checkpoints.
//
// A run is one scripted session, the rules checked in an order that builds
// on what came before: connect (with a refused SUBACK), status and
// heartbeat while idle, the mapping sweep, latched holds, stale and
// duplicate directives and fleet commands, a route released a step at a
// time with the three fail-safe triggers (orchestrator/status offline, the
// orchestrator heartbeat stopping, the link cut), checkpoints resent for a
// route whose step is behind, a fleet stop across kill -9 and a restart of
// the robot process (its will, a late joiner), parking at the final goal,
// and a clean shutdown. Each check counts for one rule; a rule passes when
// it was checked and nothing failed, and is skipped when nothing checked
// it (the reason is given).
//
// Bounds are the contract's (topics: OrchestratorSilence, the heartbeat
// periods) plus a control tick; waits for what must happen eventually are
// generous and only turn into a failure when it never happens.
package conform
