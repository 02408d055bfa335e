// Package campaign runs whole missions in stepped mode, in one process and
// with no broker: the real pilot of every robot, the simulated world
// (robot/sim) as the oracle, and the real orchestrator core with its traffic
// planner. Messages between them go through the wire contract (encoded and
// decoded with package topics) and arrive one control tick (50 ms) late in
// each direction, as over Wi-Fi.
//
// A run is one seed: a 3 m arena with 12 markers, N robots at their default
// starts, random crossing routes, camera noise on. It reports collisions (by
// the world's oracle), whether every mission finished within the time limit
// (a run that does not is counted as a deadlock), and the makespan against a
// lower bound: each robot's route driven alone, the longest of them.
//
// The map is given to the core from the world's true marker positions, so
// that runs measure traffic control; the mapping sweep is tested in
// orchestrator/core and end to end under the broker.
package campaign
