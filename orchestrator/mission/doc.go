// Package mission holds what each robot has to do and how far it got.
//
// A mission is an ordered list of arena marker ids; the last one is the
// robot's final goal. Step k of a route is the drive to Route[k]; Reached is
// the number of steps done, so the next step is Route[Reached]. A route
// directive releases steps [Step, Released) where Released is an absolute
// step count (never more than len(Route)).
//
// Checkpoints are applied exactly once in effect: a checkpoint for a step
// already reached is a duplicate and changes nothing; a checkpoint whose
// marker is not Route[step] is rejected with an error saying why.
//
// The missions file (--missions FILE) is YAML; see deploy/missions.example.yaml
// and File. Distances are metres, speeds metres per second.
package mission
