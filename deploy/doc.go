// Package deploy holds the deployment files: the orchestrator's Dockerfile,
// the robot's build scripts, systemd unit and install script, the TLS
// script, example configs, and the NATS cluster configuration. It embeds
// the robot's files (files.go) so that `orchestrator enroll` can write a
// robot's bundle.
//
// Its Go tests run those files from the outside: mkcerts.sh's CA and
// certificate (openssl verify, SANs, a TLS handshake both ways of trust);
// the example robot config against the robot's config types;
// docker-compose.yml with docker-compose config; and, with no Docker
// engine, `docker compose up` on a fresh clone through a stand-in engine
// (engine_test.go: the Dockerfile's runtime stage assembled in a
// directory, the container a chrooted process as the image's user), the
// README's laptop walkthrough command by command, and install-robot.sh
// into a Raspberry Pi's root directory, booted as systemd would.
package deploy
