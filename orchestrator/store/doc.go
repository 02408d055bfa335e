// Package store keeps the orchestrator's state on disk in one bbolt file
// (state-dir/orchestrator.db): mission states with the checkpoints they
// reached, the marker map, the epoch counter and the directive sequence.
//
// Every write is its own fsynced transaction and returns only once durable,
// so a caller that persists before acknowledging never loses an
// acknowledged checkpoint. Values are JSON. A Store is safe for concurrent
// use (bbolt serialises writers).
package store
