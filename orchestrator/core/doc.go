// Package core is the orchestrator's decision logic: a pure state machine.
// Messages and time go in (Handle, Tick and the operator calls), directives
// come out as Out values; it has no goroutines and no clock. Runner wraps it
// with a mutex, a clock and a publish sink for the MQTT and HTTP layers.
//
// Contracts:
//   - Epoch: taken from the store at New (incremented every start), carried by
//     every directive, so a directive of this run beats retained older ones.
//     Directive seqs come from one counter shared by all cmd topics.
//   - Checkpoints: applied exactly once in effect (a duplicate changes
//     nothing) and persisted before Handle returns; Handle returns an error
//     when it could not persist, and the caller must not acknowledge then.
//   - Liveness: Heartbeat gives orchestrator/heartbeat every HeartbeatEvery
//     (robots stop after topics.OrchestratorSilence without one). Announce
//     gives the retained orchestrator/status online, fleet/map and fleet/cmd
//     in force, at start and after every reconnection to a broker.
//   - Resync: the core records the last directive and the last route
//     directive it sent each robot, and each robot reports (heartbeat,
//     status) what it applied. A robot that comes online, or whose reports,
//     ResyncAfter past the last directive sent, show an older directive, an
//     older route (it restarted), failsafe (it lost its link), or blocked
//     with no head-on deciding for it (BlockedRetry), gets fresh directives:
//     its route from the persisted next step (Step = Reached; the robot
//     resends checkpoints the core lacks), even while held (a route lifts no
//     hold), then the latch in force: stop, hold, or resume. This is what
//     makes every fault end with the robot driving again, and why nothing
//     needs to be delivered exactly once.
//   - Latches: operator holds and stops and the fleet stop are persisted
//     (Persist, which the Runner calls after publishing the command's
//     directives and before answering the operator) and survive a restart;
//     a resync never resumes a robot an operator stopped. Traffic and head-on holds are not persisted: the
//     planner starts again from what the robots report.
//   - Release: a route directive releases Lookahead steps past the last
//     checkpoint (Released is an absolute step count). Outside a resync, no
//     route directive goes to a held robot: it is sent when the last hold is
//     lifted, followed by a resume.
//   - Holds have sources: traffic (planner), head-on, operator hold, operator
//     stop. A robot is resumed only when no source remains. An operator resume
//     lifts the operator's hold and stop only. A fleet stop withholds route
//     and map directives until the fleet resume.
//   - Offline: by last will or silence (SilenceTimeout, topics.RobotSilence
//     by default). The planner gets an offline robot with Online=false at its
//     last known position, and no route: an obstacle. When it comes back it
//     is resynchronised.
//   - Mapping: when there is no map, the mapper gets the map directive: the
//     configured mapper (Config.Mapper, else the missions file's mapper) when
//     it is online, or, with none configured, the robot online the longest.
//     It must stand at the arena's centre. Its arena sightings are collected
//     until its map_done event; the map is persisted and published retained.
//   - Distances: robots apply fleet/map's Scale to their camera distances, so
//     Pose.DistanceM is in real metres and the core uses it as is.
//   - Start: after the core starts (a restart, say), no leg is planned
//     until every robot with a mission is online with a known position, or
//     PositionGrace has passed: robots that a crash stopped stand wherever
//     they were, and one not heard from is invisible to the planner.
//   - Head-on: a blocked event asks the planner who backs off; the backer gets
//     a backoff directive (it backs off BackoffM then stays latched), the
//     waiter a hold. The waiter resumes when the backer leaves state
//     backing_off, or the waiter reports clear, or after BackoffTimeout; the
//     backer resumes at the waiter's next checkpoint, when the waiter goes
//     offline, or after HeadOnTimeout. When the waiter is freed, a planner
//     that can (Yielder) may let it go first past the backer, held where it
//     stands: a waiter standing at its gate for the backer's leg would
//     otherwise wait for the backer, the backer for it; the backer then
//     never backs off again in that head-on (the waiter's way was judged
//     clear of where it stands). A freed waiter blocked again by the
//     same backer makes it back off again, up to MaxBackoffs, then the two
//     swap roles. A robot the operator stopped or held, or the whole fleet
//     stopped, never backs off, nor one with another robot close behind it
//     (by the last reported poses: a backoff drives blind): the other robot
//     does, or neither. A planner may ask for a back-off itself (an Order
//     with BackoffM, when robots held at their gates wait on each other):
//     the core settles it as a head-on, the same rules applying.
package core
