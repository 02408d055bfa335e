// Package simfleet runs the orchestrator's --sim N mode: N simulated robots
// in one shared world (robot/sim), stepped in real time, each with the real
// pilot, the real control loop and its own real MQTT connection
// (robot/link) to the broker, under its own generated credentials. It also
// publishes the world's ground truth on sim/world at 10 Hz, so that watchers
// and tests see what really happened against what the robots believe.
//
// Robot k (from 0) is named r{k+1} and carries face markers 100+4k..100+4k+3.
// r1 starts at the centre and maps the arena; the others start near the edge,
// facing the centre.
package simfleet
