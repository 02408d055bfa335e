// Package fleet is the registry of robots as the orchestrator last heard
// them: online or offline, state, last pose, faces, the last marker reached
// and the time of the last message.
//
// A robot goes offline by its last will (a status with state "offline") or
// by silence: no message for longer than the timeout given to Expire. Any
// later message brings it back online. Times come from the caller; the
// registry has no clock. It is not safe for concurrent use: the core owns it.
package fleet
