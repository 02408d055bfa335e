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
//     RobotDiameterM+CorridorMarginM from what is left of every other
//     reserved leg, and RobotDiameterM+StaticMarginM from every robot
//     standing still;
//  2. the fleet stays safe afterwards (a banker's algorithm): with this
//     robot at the end of its leg, and every other at the end of its
//     reserved leg or where it stands, there is an order of single legs,
//     one robot moving at a time and the others standing, that finishes
//     every route (the witness).
//
// At most one leg is reserved per Plan call. A reserved leg shrinks as its
// robot drives it: the robot holds only the part from BackMarginM behind
// its reported position to the leg's end. The leg is freed when the
// robot's checkpoint for it arrives.
//
// Crossing gates (the time windows of the conflict prediction): a leg that
// comes near what is left of an older reserved leg may still be reserved
// when that crossing lies at least MinRunM+StopAllowanceM ahead, and the
// older leg does not end near it. The robot then drives up to its gate,
// StopAllowanceM short of the crossing, and if the older robot has not
// passed by then, it is held there (an Order with Hold) and released as
// soon as what is left of the older leg is clear of its way: each hold is
// released when its own conflict clears, one robot at a time. A gate
// waits only for older legs, so the oldest leg never waits and every gate
// opens in finite time. StopAllowanceM (0.20 m) covers the pose period,
// the planner's tick, the directive's delivery and braking at 0.25 m/s.
//
// Where robots stand. Markers sit on the wall. On its way a robot stops
// StopShortM short of a marker (its stop point, on the line from where it
// came); for its final goal it parks beside the marker, ParkWallGapM in from
// the wall halfway to the next marker (mapping.ParkSpot). The core sends
// both in route directives, so the pilots stop where the planner expects.
// A robot parked in front of its marker would hide the marker from every
// robot that visits it later and stand where they stop: beside it, it
// stands 0.3 m or more from every stop point and every leg that spans at
// least a third of the arena. The planner takes a standing robot to be
// where it planned it (its last stop point, or the mission's start), not
// where the robot's pose estimate says: a robot ranges a marker to a
// centimetre at the end of a leg, while a pose from markers across the
// arena can be decimetres off sideways.
//
// Collision-free by construction: robots move only on reserved legs, which
// keep apart from each other (what is left of them only shrinks; a gated
// leg is driven only up to its gate while the crossing is taken) and from
// every robot standing still, and a robot standing still does not move
// until it reserves a leg, which must in turn keep clear of every reserved
// leg. Head-on meetings cannot arise between reserved legs. The robots'
// face reflex is a second, local line of defence.
//
// Deadlock-free by construction: a robot on a reserved leg waits for
// nothing but older legs at its gate (nothing may enter what is left of its
// leg), so, oldest first, every reserved leg ends in finite time. Every reservation keeps a witness order. When no
// robot is moving, the witness's first leg is clear of every robot standing
// (that is what the witness checked), and reserving it keeps the rest of
// the witness valid, so the check passes (it replays the kept witness first;
// the kept witness is checked with half the slack, SafetySlackM, that a new
// one needs, because robots stop a centimetre or two off their planned stop
// points). So some robot always gets a leg, each leg is one step of a
// finite route, and every mission finishes. The search for a new witness
// is greedy (any robot that can now finish alone runs to the end; else the
// first robot, by priority, whose next leg is clear moves one leg, one that
// then stands in nobody's next leg preferred): a failed search does not
// prove that no order exists, so the check can be more cautious than
// needed, never less. Priority is by first appearance, then id (priority
// with aging: a robot that waits keeps its place).
//
// The cases of issue 4, each in the tests: two robots head-on (their legs
// are never reserved together, and a swap with no room to pass is refused
// rather than entered: TestReserverRefusesADeadSwap); three robots in a
// cycle (the witness orders them); a robot whose final goal lies on
// another's path (it parks beside the marker, and the witness finishes the
// other first when its path passes the spot); a robot that goes offline
// inside a conflict zone (it stands still as an obstacle, its leg stays
// reserved, the others go on around it, and its mission resumes when it
// comes back).
//
// What it needs from the routes: a fleet whose state is unsafe from the
// start (e.g. two robots standing on each other's only way) gets no legs,
// and Plan says so ("waits its turn"); Drivable checks a set of missions
// before it is given. Legs that span less than a third of the arena run
// close to the stop points of the markers in between; the campaign draws
// legs of at least 4 of 12 markers. When no leg has been reserved for
// StallAfter with nobody moving (robots stopped far off their stop
// points), the next free leg is reserved without the check: legs stay
// exclusive, so this never risks a collision.
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
