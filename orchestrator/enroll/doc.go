// Package enroll gets a robot onto the fleet in one step: its account, its
// face markers, and a bundle of everything the robot needs.
//
// Concepts:
//   - Registry (STATE_DIR/robots.yaml) records each enrolled robot's face
//     markers, so that no two robots carry the same ids. Robot rN gets
//     face_base 100+4(N-1) (r1: 100..103, as the simulated world places
//     them) when those are free, else the lowest free block of four.
//   - RenderConfig writes a robot.yaml from deploy/robot.example.yaml with
//     the robot's id, broker, CA, password file and face_base: only those
//     values change, every comment and every other key stays.
//   - A bundle is a directory (or a .tar.gz of one, named after the robot)
//     holding robot.yaml, password, ca.crt for TLS, robot.service and
//     install-robot.sh; the script installs it on the Pi.
package enroll
