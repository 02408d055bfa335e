// Package broker is the embedded MQTT broker of the orchestrator: mochi-mqtt
// v2 with our own listeners, credentials, per-robot ACL and payload checks.
//
// Roles (see Credentials):
//   - orchestrator: may publish and subscribe everything;
//   - robot: its username is its client id and its robot id; it may publish
//     only robots/{id}/{status,pose,sightings,checkpoint,events} and
//     subscribe only robots/{id}/cmd, fleet/# and orchestrator/status;
//   - observer and operator: read-only on every topic (operator is a
//     dashboard user with no further MQTT rights);
//   - anonymous: refused, unless Options.AllowAnonymousWatch makes it an
//     observer.
//
// Contract: a publish that its sender may not make, or whose payload on a
// topic of the contract fails topics.DecodeTopic, is acknowledged and dropped,
// never answered with a disconnect (paho would replay a refused QoS 1 message
// on every reconnect, forever); an MQTT 5 client's QoS 1 publish gets the
// reason in its PUBACK (0x87 not authorized, 0x99 payload format invalid,
// 0x95 packet too large). Each drop is counted by reason (Drops and the
// Prometheus counter collaborate_broker_drops_total) and logged. A PUBLISH
// over Options.MaxPacketSize is dropped the same way, its payload discarded
// as it arrives (framer); any other packet over it closes the connection.
//
// Retained messages and persistent sessions live in a bolt file in
// Options.StateDir and survive a restart. A client whose session is taken
// over by a new connection with the same client id is not reported offline,
// and its last will is not sent. Close never hangs: connections that block
// mochi's shutdown are force-closed after a grace period.
package broker
