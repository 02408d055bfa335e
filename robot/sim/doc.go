// Package sim is the simulated world: a circular arena with ArUco markers on
// its edge and disc robots with differential drives and cameras. It is a real
// backend of the robot's hardware seams (hw.Detector, hw.Drive, hw.Clock) and
// the oracle of the safety tests: it knows where every robot truly is and
// counts every collision.
//
// Units and frames: metres, seconds, radians. The arena frame has its origin
// at the arena's centre, x/y in metres, headings counter-clockwise from +x.
// Bearings in detections are relative to the robot's heading, positive to the
// left, within ±π.
//
// Concepts:
//   - Arena markers sit evenly on the edge, marker i of N at angle 2πi/N,
//     facing the centre. Face markers sit on each robot's disc edge, facing
//     out of their face: front, left, back, right at 0, +π/2, π, -π/2 from the
//     heading; robot k (0-based, in order of AddRobot) carries FaceBase+4k
//     .. FaceBase+4k+3 in topics.FaceNames order.
//   - A robot is a disc. Drive.Set sets a target (v, ω), clamped to the
//     maximum speeds; the world ramps towards it at the maximum acceleration,
//     and at the (larger) braking deceleration whenever the speed falls
//     towards zero. Halt is a target of zero, braked, not instantaneous.
//   - A camera sees a marker when it is within range and field of view, faces
//     the camera within MaxIncidenceRad, and no other robot's disc cuts the
//     line of sight. Distance and bearing get Gaussian noise from a
//     per-robot RNG derived from the world's seed.
//   - Collisions are exact: for each step the discs move linearly from their
//     start to their end positions, and a pair is in contact when their
//     closest approach during the step is at most the sum of their radii
//     (continuous collision detection, so nothing tunnels). A contact is
//     counted once when it starts and ends when the pair is apart for a
//     whole step. Overlapping discs are pushed apart at the end of a step;
//     discs are clamped inside the wall, and wall contacts are counted
//     separately.
//
// Ground truth: Truth is the sim/world message (true poses, the speed each
// robot really makes, the collision count, the sim time); TruthEvery yields
// one every TruthPeriod of sim time for the publisher.
//
// Time: the world runs on a virtual clock. Step(dt) advances it; nothing
// sleeps, and the same Config (with its Seed) and the same calls give the
// same result bit for bit. Every registers hooks (a pilot's control tick, a
// truth publisher) that fire at exact multiples of their period of sim time,
// inside Step. Run steps the same world in real time, scaled by a factor
// (set Config.Start to time.Now() then, so that stamps look current).
//
// Concurrency: every method is safe for concurrent use. Hooks run without the
// world's lock held, so they may call Detect, Set and Truth; they must not
// call Step.
package sim
