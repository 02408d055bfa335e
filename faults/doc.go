// Package faults is the fault-injection suite: it runs the real binaries
// (the orchestrator with its embedded broker, on a real mosquitto, or on a
// 3-node NATS cluster set up from deploy/nats/, a
// `robot world` server, and one `robot --hw sitl` process per robot, each
// reaching the broker through a fault proxy, Shopify's toxiproxy run
// in-process) on loopback ports chosen at run time, breaks them the way a
// user's Wi-Fi and laptop break them, and checks the end state against the
// world's ground truth, which the world serves itself and which goes on
// whatever else is down:
//
//   - every mission done, each checkpoint recorded once and in order (read
//     from the orchestrator's store after it stopped);
//   - 0 collisions;
//   - after a cut, the robot halted within the liveness bound: 0.8 s of
//     orchestrator silence plus a control tick, measured in wall time on the
//     truth (at --faults.speed 1, that is <= 0.25 m at 0.25 m/s);
//   - nothing resumed a robot that an operator stopped.
//
// The world runs at -faults.speed sim seconds per wall second (default 2 to
// keep CI short; 1 is real time). Repeat a scenario with -count, e.g.
//
//	go test ./faults -run 'Crash' -count 10 -v -args -faults.speed 1
//
// The processes' logs are kept in the test's temporary directory, named in
// the failure message.
package faults
