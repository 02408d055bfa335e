// Package metrics is the orchestrator's Prometheus instrumentation, on a
// private registry served at /metrics (Handler). The broker registers its own
// collectors on the same Registry.
//
// Concepts and units:
//   - Message kinds are topics.Kind values ("pose", "checkpoint", "fleet/map",
//     ...); anything else is counted as "other" so that a hostile topic cannot
//     grow the label set.
//   - Reject reasons are free strings from the caller; after MaxReasons
//     distinct values, new ones are counted as "other".
//   - Durations are observed in seconds. Hold duration runs from a hold
//     published to its release; hold reaction latency from the conflicting
//     pose received to the hold published (HoldLatency).
//   - Collisions is a gauge mirrored from sim/world (simulation only).
//
// Every method is safe for concurrent use and allocation-light: the hot path
// (MessageIn per pose) is one map-free counter increment.
package metrics
