// Package testkit holds the helpers every test package of this module
// shares: polling instead of sleeping (Eventually), loopback addresses
// chosen at run time (FreeAddr), a buffer safe for concurrent writers
// (Buffer), real peers that a test needs or skips (RequireTool, Missing),
// a real mosquitto started from the deploy/ configuration (Mosquitto), a
// NATS cluster (NATSCluster), processes started from built binaries
// (Proc), a TCP proxy that cuts connections (Proxy), and a test CA with a
// server certificate made by the orchestrator's certs package (TLS).
//
// A helper that fails says what it waited for and what it saw. A real peer
// that is missing skips the test with what to install, unless
// COLLABORATE_REQUIRE_TOOLS=1 (as CI sets it) makes that a failure.
package testkit
