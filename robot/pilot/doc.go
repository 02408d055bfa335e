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
// from two or more mapped markers has been made; dead reckoning of the
// commanded speeds carries the fix between frames.
//
// Modes: idle, mapping (a 360° turn in place, every frame reported with the
// angle turned so far, then map_done), route (navigate to each released step:
// search by turning, track the marker with a proportional heading controller,
// checkpoint at StopDistanceM), back-off (reverse BackoffM, then hold until a
// resume, route or map), fault (target not found after a full turn plus
// FindTimeout). Over these lie latches that only explicit words lift:
//   - hold / stop directive: until resume (a new route updates the route but
//     does not lift it);
//   - fleet stop: until a fleet resume (which lifts nothing else);
//   - failsafe: link lost or orchestrator offline halts in the same tick and
//     stays until a fresh directive, even after the link is back;
//   - blocked (another robot's front face ahead): until hold, resume, stop,
//     route, map or back-off. A side or back face makes the robot yield and
//     carry on by itself ClearAfter after the face was last seen; a yield
//     that lasts YieldTimeout turns into blocked. The reflex guards forward
//     motion only: turning in place never yields.
//
// Directives and fleet commands apply once, in (epoch, seq) order, epoch
// first: the same pair again is a no-op, an older one is ignored and reported
// as a stale event, an applied one is acknowledged with an ack event.
package pilot
