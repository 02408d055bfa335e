// Package traffic is the orchestrator's traffic control: pure planners that
// take every robot's state and the time, and return holds and releases. They
// have no goroutines and no clock; the core calls Plan on every tick (10 Hz)
// and HeadOn when a robot reports `blocked`.
//
// Units and frames: metres, seconds, arena frame (origin at the centre). A
// robot drives straight from where it stands towards its target marker and
// stops StopShortM short of it (its stop point).
//
// # Reserver: the planner the orchestrator uses
//
// Reserver gates how many route steps each robot may drive (the core's Gate:
// the Released count of its route directive). A robot may drive its next leg
// only after reserving it, and it reserves it only when:
//
//  1. the leg (from where it stands to its next stop point) keeps
//     RobotDiameterM+CorridorMarginM from every other reserved leg, and
//     RobotDiameterM+StaticMarginM from every robot standing still;
//  2. the fleet stays safe afterwards (a banker's algorithm): with this
//     robot at the end of its leg, and every other at the end of its
//     reserved leg or where it stands, there is an order in which the robots
//     can finish their whole remaining routes one at a time, each keeping
//     clear of where the others stand (finished ones at their final goals).
//
// At most one leg is reserved per Plan call. A reserved leg is freed when the
// robot's checkpoint for it arrives.
//
// Collision-free by construction: robots move only on reserved legs, which
// keep apart from each other and from every robot standing still, and a
// robot standing still does not move until it reserves a leg, which must in
// turn keep clear of every reserved leg. Head-on meetings cannot arise
// between reserved legs.
//
// Deadlock-free by construction, when the routes themselves can be driven
// one at a time (the initial state is safe): a robot on a reserved leg never
// waits (nothing may enter its leg), so it finishes the leg in finite time.
// A safe state always has a robot that can finish alone; by (2) every
// reservation keeps the state safe, so that robot's next leg is blocked by no
// one standing, only by reserved legs, which all end in finite time; then it
// reserves it. Each step of each route is reserved once, so all missions
// finish. The ordering is by first appearance, then id (priority with aging:
// a robot that waits keeps its place).
//
// What it needs from the routes, and why the campaign draws them so: stop
// points of markers near a leg lie 0.3 m or more from it only when the leg
// spans at least a third of the arena (4 of 12 markers); a robot parks at its
// final goal, so no route should pass another robot's final goal or start.
// When the initial state is not safe, nobody can be given a first leg that
// keeps it safe: Plan then holds them and says so ("waits its turn").
//
// # Planner: the predictive planner
//
// Planner predicts conflicts from segments, distances and speeds over a time
// horizon and holds the later robot; it releases one robot per conflict zone
// per call. Its ordering is acyclic within one call but can change between
// calls, so liveness is not proved: about 1 in 6 random fleets of 2–4 robots
// ends stuck (sim_test.go). Kept for comparison (campaign -planner predict)
// and its benchmarks of conflict checks with 50–1000 robots.
package traffic
