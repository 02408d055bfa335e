// Package campaign runs whole missions in stepped mode, in one process and
// with no broker: the real pilot of every robot, the simulated world
// (robot/sim) as the oracle, and the real orchestrator core with its traffic
// planner. Messages between them go through the wire contract (encoded and
// decoded with package topics) and arrive one control tick (50 ms) late in
// each direction, as over Wi-Fi.
//
// A run is one seed: a 3 m arena with 12 markers, N robots (4–12) each
// parked beside its home marker, random crossing routes of 3–8 markers that
// end back home (every leg spans at least a third of the ring; intermediate
// markers may be other robots' homes), camera noise on; routes are drawn
// until they can be driven one robot at a time (traffic.Reserver.Drivable).
// It reports collisions (by the world's oracle), whether every mission
// finished within the time limit (a run that does not is counted as a
// deadlock), how far off its park spot each robot ends, and the makespan
// against a lower bound: each robot's route driven alone, the longest of
// them.
//
// The map is given to the core from the world's true marker positions, so
// that runs measure traffic control; the mapping sweep is tested in
// orchestrator/core and end to end under the broker.
package campaign
