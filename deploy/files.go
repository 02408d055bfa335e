package deploy

import _ "embed"

// The robot's deployment files, built into the orchestrator so that
// `orchestrator enroll` writes a bundle that needs nothing else from this
// repository on the robot.
var (
	// RobotExample is robot.example.yaml: the template of every enrolled
	// robot's robot.yaml.
	//go:embed robot.example.yaml
	RobotExample []byte
	// RobotUnit is robot.service, the systemd unit.
	//go:embed robot.service
	RobotUnit []byte
	// InstallRobot is install-robot.sh, which installs a bundle on a Pi.
	//go:embed install-robot.sh
	InstallRobot []byte
)
