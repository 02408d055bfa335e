// Package extbus connects the orchestrator to an external MQTT broker
// (mosquitto, say) instead of the embedded one, for fleets that outgrow one
// laptop. The orchestrator then is an ordinary client: its security belongs
// to that broker (see deploy/mosquitto/ for the equivalent ACL).
//
// Incoming messages are acknowledged only after the handler returns nil, so
// that a checkpoint the orchestrator could not persist is redelivered.
// The connection's last will publishes orchestrator/status offline, so that
// robots stop when the orchestrator dies.
package extbus
