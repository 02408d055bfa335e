// Package traffic is the orchestrator's traffic control, Reserver: a pure
// planner that takes every robot's state and the time and returns holds and
// releases. It has no goroutines and no clock; the core calls Plan on every
// tick and HeadOn when robots report a head-on. Units: metres, seconds, the
// arena frame (origin at the centre).
//
// # Legs, ranks and gates
//
// A robot drives its route one leg at a time, straight from where it stands
// to the stop spot of its next marker (StopShortM in front of it, towards
// the centre), or to its park spot for its last step. The core sends both
// in route directives (Stopper) and lets a robot drive only the steps the
// planner released (Gate). A robot drives a leg once it is reserved, and
// reserved legs are ranked. With still = RobotDiameterM+StaticMarginM and
// move = RobotDiameterM+CorridorMarginM, a leg is reserved when:
//
//  1. it keeps move from every robot standing, as from a moving one (at
//     still the standing robot's face would lie in the passing robot's
//     reflex corridor), and still once the fleet is stalled (see No
//     deadlock). A robot standing is one without a reserved leg, taken to
//     be where its last leg ended, not where its pose says; one this
//     planner never drove is at its mission's start while its pose stays
//     within startTrustM of it, else where its pose says;
//  2. it finds a rank among the reserved legs: for every leg L that what is
//     left of it (from BackMarginM behind its robot to its end) comes within
//     move of, either it ranks below L and L does not end within move of
//     its way, or it ranks above L, does not end within move of what is
//     left of L, and L's robot can still stop short of it (it is held and
//     the new leg keeps move from its pose and from the point of its leg
//     nearest its pose, since a pose mid-arena errs by decimetres; or its
//     gate for the new leg lies at least StopAllowanceM+aheadMarginM ahead
//     of it). Robots stand at the
//     ends of their legs, perhaps held there for their next leg, and a
//     robot held at its gate stands too: each is passed as a moving robot,
//     as in rule 1;
//  3. the deadlock check passes (deadlock.go).
//
// A robot's gate is StopAllowanceM short of where its way first comes within
// move of what is left of a higher leg; it is held there (an Order with
// Hold), and released once its way is clear. Among the ranks allowed, a leg
// takes the one whose estimated waits cost least, a wait weighted by the
// waiting robot's work left; robots that want a leg are served by most work
// left, several per call. A leg is freed at its robot's checkpoint.
//
// Queue is the first version, kept to measure against: one leg per call,
// served by first appearance, a new leg always ranked last with a gate at
// least queueMinRunM ahead, and robots stopping on their way (ApproachStops).
//
// # No collision
//
// It holds while a robot on a leg stays within CorridorMarginM/2 of it, one
// standing within StaticMarginM/2 of where the planner takes it to be, and
// a robot held at its gate stops within StopAllowanceM. Two robots on reserved legs keep
// apart: the lower one stays short of its gate, outside move of what is
// left of the higher leg, which only shrinks; a new leg ranked above an
// older one leaves that robot room to stop at its new gate. A moving robot
// keeps clear of robots standing: rule 1 when its leg is reserved; and a
// robot that ends its leg stands at its end, which rule 2 keeps clear of
// every lower leg, and which its own gates kept out of every higher one. A
// robot standing still moves only on a reserved leg. Head-ons cannot arise
// between reserved legs; the robots' face reflex is a second, local defence.
// When robots report one anyway (a robot held at its gate with its front
// near a higher leg's way), the robot on the lower leg backs off (HeadOn),
// unless backing off would take it nearer the other's way while the
// other's would not (held where its leg starts, it still faces the marker
// it reached, and backs towards the centre). When it cannot (a robot close
// behind it), the other backs off, and the
// two would wait for each other when the one on the lower leg stands at
// its gate (for the other, or for a leg that waits for the other) and the
// other stopped for it (it stands nearer the other's way than planned:
// poses err). So once the other has backed off and stands, held, every
// robot waiting at its gate below it has its leg placed again, as a new
// leg, at the other's rank or higher, with the other held where it stands,
// but above no leg whose robot may be moving (Yield): all the robots it
// then ranks above stand, and are gated where they stand. A waiter with no
// leg yet (one that has not moved is taken where its pose says, and the
// pose errs) gets its next leg placed with the other passed as held where
// it stands; else the other, freed, would meet it again.
//
// # No deadlock
//
// Every reserved leg ends (its robot online): the highest waits for nothing
// (no gate; nobody comes to stand in its way, since lower robots stop at
// their gates), so its robot drives it to its end, and then the next one is
// highest. A new leg may rank above older ones, and Yield may move a leg
// above another (never back), but the missions have finitely many legs.
// Every reservation keeps a witness: with every
// reserved leg driven to its end, an order of single legs, one robot moving
// at a time and the others standing, that finishes every route. When no leg
// is reserved, the robots stand where the witness put them, its first leg
// is clear of all of them, and the rest of it still holds: that leg is
// reserved (the kept witness is replayed first, with half the slack,
// SafetySlackM, that a new one needs, since robots stop a centimetre or two
// off their spots; the witness keeps still, not move, from robots standing,
// so its leg may wait until StallAfter, when rule 1 takes still). So some
// robot always gets a leg, and every mission ends.
// The search for a witness is greedy (robots that can finish alone and then
// stand in nobody's way run to the end; else the first robot, by priority,
// whose next leg is clear moves one leg): a failure does not prove that no
// order exists, so the check is more cautious than needed, never less. When
// robots stand too far off their spots for any witness, after StallAfter
// with nobody moving the next free leg is reserved without the check (still
// safe; only the guarantee is given up).
//
// Robots that leave the plan (a leg driven from a pose that erred, a
// back-off) can still jam: every robot on a reserved leg held, each
// standing in the way of another's. After StallAfter the jam breaker
// (jam.go) asks the core for a back-off that lets one leg rank above every
// other, settled as a head-on; no proof covers every such jam.
//
// It needs routes that can be driven one robot at a time from the start
// (Drivable checks them), whose legs span at least a third of the arena: a
// robot waiting at a stop spot then stands in the way only of legs to and
// from that marker and the park spots beside it, and one parked beside its
// marker in nobody's.
package traffic
