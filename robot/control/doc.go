// Package control is the robot's control loop: every tick it drains the
// link's inbox, grabs a frame from the detector, steps the pilot, and sends
// the pilot's command to the drive and its messages to the link.
//
// The same loop runs a real Pi (camera, periph drive), a simulated robot
// (robot/sim), and each robot of the orchestrator's --sim mode. The pilot is
// pure; this loop is the only place that touches hardware and the network.
// On every way out of Run the drive is halted.
package control
