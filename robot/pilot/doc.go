// Package pilot is a robot's state machine: a pure core with no goroutines,
// clock or I/O. Each control tick the caller passes an Input (the time, the
// latest camera frame, directives, fleet commands, the fleet map and the link
// state) to Step, and gets back an Output: the drive command, whether to
// halt, and the messages to publish (status, pose, sightings, checkpoint,
// events), already stamped with per-topic sequence numbers.
//
// Units and frames: metres, seconds, radians, counter-clockwise. Bearings of
// detections are relative to the robot's heading, left positive. Camera
// distances are multiplied by the fleet map's Scale before use. Poses are in
// the arena frame and are published only once the map is known and a fix
// from two or more mapped markers has been made (least squares on their
// bearings and distances); dead reckoning of the commanded speeds carries
// the pose between frames, and each new fix is blended in. Forward speed
// grows no faster than MaxAccelMps2, so the drive follows what odometry
// counts.
//
// Modes: idle, mapping (a 360° turn in place, every frame reported with the
// angle turned so far, then map_done), route (navigate to each released step:
// track the marker with a proportional heading controller, checkpoint at the
// route's stop_m, else StopDistanceM; when the route gives a park spot, the
// last step drives there by the pose estimate and checks in within
// ParkToleranceM, and with stop_radial so does every other step, to its
// marker's stop spot, stop_m in front of it towards the arena's centre),
// back-off (reverse BackoffM, then hold until a resume,
// route or map), fault. A target not in view is searched for: with a pose
// and the map the robot faces where the map has it and waits (another robot
// may hide it) and faults after HiddenTimeout; without, it turns, and faults
// after a full turn plus FindTimeout. Over these lie latches that only
// explicit words lift:
//   - hold / stop directive: until resume (a new route updates the route but
//     does not lift it);
//   - fleet stop: until a fleet resume (which lifts nothing else);
//   - failsafe: link lost or orchestrator offline halts in the same tick and
//     stays until a fresh directive, even after the link is back;
//   - blocked (another robot's front face ahead): until hold, resume, stop,
//     route, map or back-off. A side or back face makes the robot yield and
//     carry on by itself ClearAfter after the face was last seen; a yield
//     that lasts YieldTimeout turns into blocked. The reflex counts a face
//     only in the corridor towards where the robot is going (within
//     ForwardConeRad, ReflexHalfWidthM sideways, and no farther than its
//     stop point plus its own front), and guards forward motion only:
//     turning in place never yields, and a robot that sees a face in the
//     corridor of its heading finishes turning before it drives.
//
// Directives and fleet commands apply once, in (epoch, seq) order, epoch
// first: the same pair again is a no-op, an older one is ignored and reported
// as a stale event, an applied one is acknowledged with an ack event.
package pilot
