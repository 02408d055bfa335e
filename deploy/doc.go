// Package deploy holds the deployment files: the orchestrator's Dockerfile,
// the robot's build scripts and systemd unit, the TLS script and example
// configs. Its Go tests run those scripts and check what they make: the CA
// and broker certificate from mkcerts.sh (openssl verify, SANs, a TLS
// handshake in both directions of trust), the example robot config against
// the robot's config types, and docker-compose.yml with docker-compose config.
package deploy
