// Package campaign runs whole missions in stepped mode, in one process and
// with no broker: every robot's real control loop (robot/control, the pilot
// behind it), the simulated world (robot/sim) as the oracle, and the real
// orchestrator core with its traffic control. Messages between them go
// through the wire contract (encoded and decoded with package topics; robot
// sightings are only validated: the core counts them as signs of life) and
// arrive one control tick (50 ms) late in each direction, as over Wi-Fi.
//
// A run is one seed: a 3 m arena with 12 markers, N robots (4–12) each
// parked beside its home marker, random crossing routes of 3–8 markers that
// end back home (every leg spans at least a third of the ring; intermediate
// markers may be other robots' homes), camera noise on; routes are drawn
// until they can be driven one robot at a time (traffic.Reserver.Drivable)
// under either control. Control says which traffic control runs: Flow (the
// orchestrator's), Queue (its first version) or Off (the control case).
//
// A run reports collisions (by the world's oracle), whether every mission
// finished within the time limit (a run that does not is counted as a
// deadlock), how far off its park spot each robot ends, when each mission
// ended (the makespan, and their sum, the flowtime), and how many robots
// drove and waited on average. Measure gives what to measure it against:
// each route driven alone (the longest bounds the makespan, the sum the
// flowtime) and a bound from the arena's shared space (SharedBound).
//
// The map is given to the core from the world's true marker positions, so
// that runs measure traffic control; the mapping sweep is tested in
// orchestrator/core and end to end under the broker.
package campaign
