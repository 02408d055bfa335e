// Package world serves the simulated world (package sim) over TCP, so that
// robots run as processes of their own (`robot --hw sitl`, the same binary
// and code path as on a Pi, with only the motors and the camera replaced)
// and outlive the orchestrator, the broker, and each other: what a crash
// test needs, and what software in the loop means.
//
// Protocol: one JSON object per line, over TCP on loopback.
//
//	robot → world  {"op":"hello","robot":"r1","faces":{...}}    claims the body of r1 (placed at the
//	                                                          world's next default start if it has none)
//	world → robot  {"op":"welcome","robot":"r1","faces":{...},"sim_ns":...,"scale":1}
//	robot → world  {"op":"drive","lin":0.2,"ang":0.1}         motor command; {"op":"halt"} stops
//	robot → world  {"op":"frame","id":7}                      a camera frame ...
//	world → robot  {"op":"frame","id":7,"sim_ns":...,"dets":[{"id":3,"d":1.2,"b":0.1}]}
//	observer → world {"op":"watch"}                           then, every 100 ms of sim time:
//	world → observer {"op":"truth","wall_ns":...,"world":{sim/world}}
//
// Errors come back as {"op":"error","error":"..."} and close the
// connection. A body whose robot is not connected, or that has had no motor
// command for Watchdog (300 ms, like the robot drive's own watchdog), is
// halted: a robot process that dies leaves its body standing where it was,
// an obstacle for the others, until it comes back and claims it again.
//
// Time: the world runs in real time times Scale. Each reply carries the sim
// time; a robot's clock (Body.Now) is the last sim time it heard plus the
// wall time since, scaled. Distances in metres, angles in radians,
// counter-clockwise, arena frame (see package sim).
package world
