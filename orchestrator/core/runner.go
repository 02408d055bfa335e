package core

import (
	"context"
	"fmt"
	"sync"
	"time"

	"collaborate/topics"
)

// Runner makes a Core safe for concurrent use: the MQTT layer calls Deliver,
// a loop calls Tick, the HTTP API calls the operator methods. Every Out is
// passed to Publish in order, with the lock held, so directives reach the
// broker in seq order; Publish must not call back into the Runner.
type Runner struct {
	mu      sync.Mutex
	core    *Core
	publish func(Out)
	now     func() time.Time
}

// NewRunner wraps a core. now defaults to time.Now.
func NewRunner(c *Core, publish func(Out), now func() time.Time) *Runner {
	if now == nil {
		now = time.Now
	}
	if publish == nil {
		publish = func(Out) {}
	}
	return &Runner{core: c, publish: publish, now: now}
}

func (r *Runner) emit(outs []Out) {
	for _, o := range outs {
		r.publish(o)
	}
}

// Announce publishes orchestrator/status online, the stored map and the
// fleet command in force: at start, and after every reconnection to an
// external broker.
func (r *Runner) Announce() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.emit(r.core.Announce(r.now()))
}

// Heartbeat publishes orchestrator/heartbeat when one is due. It runs under
// the same lock as everything else: a core that is stuck stops its
// heartbeat, and the robots stop.
func (r *Runner) Heartbeat() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.emit(r.core.Heartbeat(r.now()))
}

// Deliver decodes one MQTT message and hands it to the core (Take). The
// orchestrator decodes each message once, at the broker's door, and calls
// Take; Deliver is for callers that hold only the wire form.
func (r *Runner) Deliver(topic string, payload []byte) error {
	t, msg, err := topics.DecodeTopic(topic, payload)
	if err != nil {
		kind := string(t.Kind)
		if kind == "" {
			kind = "topic"
		}
		err = fmt.Errorf("%w: %w", ErrRejected, err)
		r.mu.Lock()
		r.core.Reject(kind, err)
		r.mu.Unlock()
		return err
	}
	return r.Take(t, msg)
}

// Take hands one decoded message to the core. A nil error means handled
// (and, for a checkpoint, persisted): acknowledge it then. An error
// wrapping ErrRejected is bad input, counted and logged: drop it
// (acknowledge, it will never become good). Any other error is a storage
// failure: do not acknowledge, so that the robot's outbox sends it again.
func (r *Runner) Take(t topics.Topic, msg topics.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	outs, err := r.core.Handle(r.now(), t, msg)
	r.emit(outs)
	return err
}

// Shutdown publishes orchestrator/status offline and saves the seq; call
// it before closing the broker and the store.
func (r *Runner) Shutdown() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.emit(r.core.Shutdown(r.now()))
}

// Tick runs the core's time-driven work once.
func (r *Runner) Tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.emit(r.core.Tick(r.now()))
}

// Run calls Tick every interval (50–100 ms), and Heartbeat every
// beat (topics.OrchestratorHeartbeatPeriod), until ctx ends.
func (r *Runner) Run(ctx context.Context, interval, beat time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	b := time.NewTicker(beat)
	defer b.Stop()
	r.Heartbeat()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.C:
			r.Heartbeat()
		case <-t.C:
			r.Tick()
		}
	}
}

func (r *Runner) op(f func(now time.Time) ([]Out, error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	outs, err := f(r.now())
	r.emit(outs)
	if perr := r.core.Persist(); err == nil {
		err = perr
	}
	return err
}

// Fleet is the fleet view.
func (r *Runner) Fleet() FleetView {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.core.Fleet()
}

// Map is a copy of the map, or nil.
func (r *Runner) Map() *topics.FleetMap {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.core.Map()
}

// ActiveHolds lists the holds in force.
func (r *Runner) ActiveHolds() []ActiveHold {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.core.ActiveHolds()
}

// Stats is a copy of the counters.
func (r *Runner) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.core.Stats()
}

// SetMission replaces a robot's mission.
func (r *Runner) SetMission(id string, route []int) error {
	return r.op(func(now time.Time) ([]Out, error) { return r.core.SetMission(now, id, route) })
}

// Hold latches an operator hold.
func (r *Runner) Hold(id string) error {
	return r.op(func(now time.Time) ([]Out, error) { return r.core.Hold(now, id) })
}

// Resume lifts the operator's hold and stop.
func (r *Runner) Resume(id string) error {
	return r.op(func(now time.Time) ([]Out, error) { return r.core.Resume(now, id) })
}

// Stop latches an operator stop.
func (r *Runner) Stop(id string) error {
	return r.op(func(now time.Time) ([]Out, error) { return r.core.Stop(now, id) })
}

// FleetStop broadcasts a stop.
func (r *Runner) FleetStop() error {
	return r.op(func(now time.Time) ([]Out, error) { return r.core.FleetStop(now), nil })
}

// FleetResume lifts the fleet stop.
func (r *Runner) FleetResume() error {
	return r.op(func(now time.Time) ([]Out, error) { return r.core.FleetResume(now), nil })
}

// Sweep asks for a new mapping sweep.
func (r *Runner) Sweep(robot string) error {
	return r.op(func(now time.Time) ([]Out, error) { return r.core.Sweep(now, robot) })
}
