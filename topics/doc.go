// Package topics is the wire contract between the orchestrator, the robots and
// anyone watching with mosquitto_sub: topic names, payload types, their QoS and
// retain policy, validation, and the size limit.
//
// Units and frames: distances are in metres, angles in radians,
// counter-clockwise, in the arena frame (origin at the arena's centre). Bearings
// seen by a camera are relative to the robot's heading, positive to the left,
// within ±π. Marker ids are non-negative. Times are UTC.
//
// Every payload is JSON and starts with a Header: the contract version, the
// sender, a per-topic sequence number and a timestamp. Decoders reject invalid
// JSON, missing required fields, wrong types, NaN or Inf, values out of range
// and payloads over MaxPayload, with an error that names the field. Unknown
// fields are tolerated so that newer senders can talk to older receivers.
// A key names a field exactly or, failing that, without regard to case; a
// key given twice decodes twice, the last value winning, as encoding/json
// does. Each message decodes in one pass from its schema (fields.go).
// Header times are returned in UTC whatever offset the sender wrote, and must
// fall in 1970–9999. Whatever Encode returns, the decoders accept (a nil
// required list is written as []).
//
// asyncapi.yaml describes the same contract (channels, payload schemas, QoS
// and retain, examples) for tools and other languages; asyncapi_test.go fails
// when it and this package disagree.
//
// No other package builds a topic string by hand: use the functions here.
package topics
