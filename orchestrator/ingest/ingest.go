// Package ingest is the orchestrator's inbox: it stands between the
// broker, which hands over each robot message once decoded, and the
// decision core, which takes them one at a time. The broker's per-client
// goroutines never wait for the core on a QoS 0 message, so a busy core
// never delays a robot's keepalive; when the core falls behind, the least
// valuable work goes first.
//
// Contracts:
//   - Order: messages reach the handler in the order they were put, per
//     robot and overall, except that a message superseded on the way is
//     skipped.
//   - QoS 1 (status, checkpoint, events): Put waits until the handler has
//     taken the message and returns its error, so the broker acknowledges a
//     checkpoint only once it is on disk. Never shed.
//   - QoS 0 (pose, heartbeat, sightings): Put returns at once. A newer pose
//     or heartbeat of a robot supersedes the one still waiting (the older is
//     skipped, counted as shed); sightings wait in a bounded backlog, the
//     oldest shed first when it is full (a mapping sweep then averages
//     fewer frames).
//   - Lag: the age of each message when the handler takes it is reported
//     (Options.OnLag) and kept in Stats, with the backlog.
package ingest

import (
	"context"
	"errors"
	"sync"
	"time"

	"collaborate/topics"
)

// Shed reasons.
const (
	ShedPose      = "superseded_pose"
	ShedHeartbeat = "superseded_heartbeat"
	ShedSightings = "sightings_backlog"
)

// ShedReasons lists every reason, for metrics.
var ShedReasons = []string{ShedPose, ShedHeartbeat, ShedSightings}

// Item is one decoded robot message.
type Item struct {
	Topic   topics.Topic
	Msg     topics.Message
	Payload []byte // as received, for whoever forwards it
	At      time.Time
}

// Options configure a Queue.
type Options struct {
	// Handle takes one item, in order, from one goroutine (Run's).
	Handle func(Item) error
	// SightingsBacklog bounds the sightings waiting; default 1024.
	SightingsBacklog int
	// OnShed and OnLag, when set, are called for metrics (from Put's or
	// Run's goroutine; they must not block).
	OnShed func(reason string)
	OnLag  func(age time.Duration, backlog int)
	Now    func() time.Time
}

// Stats describe the queue.
type Stats struct {
	Backlog int               // items waiting
	Shed    map[string]uint64 // by reason
	Handled uint64
	MaxLag  time.Duration // the oldest an item was when handled
}

type entry struct {
	Item
	skip bool
	done chan error // QoS 1: the handler's answer
}

// Queue is the inbox. Create it with New, run it with Run.
type Queue struct {
	o Options

	mu        sync.Mutex
	wake      chan struct{}
	q         []*entry
	latest    map[latestKey]*entry // waiting pose or heartbeat, per robot
	sightings int                  // waiting, not skipped
	closed    bool
	stats     Stats
}

type latestKey struct {
	robot string
	kind  topics.Kind
}

// ErrClosed is Put's answer once Run has returned.
var ErrClosed = errors.New("ingest: closed")

// New returns a queue for o.Handle.
func New(o Options) *Queue {
	if o.SightingsBacklog <= 0 {
		o.SightingsBacklog = 1024
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Queue{o: o, wake: make(chan struct{}, 1), latest: map[latestKey]*entry{},
		stats: Stats{Shed: map[string]uint64{}}}
}

// Put hands over one message. For a QoS 1 kind it waits for the handler
// and returns its error (or ctx's); otherwise it returns nil at once.
func (q *Queue) Put(ctx context.Context, it Item) error {
	if it.At.IsZero() {
		it.At = q.o.Now()
	}
	e := &entry{Item: it}
	wait := topics.PolicyOf(it.Topic.Kind).QoS > 0
	if wait {
		e.done = make(chan error, 1)
	}
	var shed []string
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	switch k := it.Topic.Kind; k {
	case topics.KindPose, topics.KindHeartbeat:
		key := latestKey{it.Topic.Robot, k}
		if old := q.latest[key]; old != nil {
			old.skip = true
			reason := ShedPose
			if k == topics.KindHeartbeat {
				reason = ShedHeartbeat
			}
			shed = append(shed, reason)
		}
		q.latest[key] = e
	case topics.KindSightings:
		if q.sightings >= q.o.SightingsBacklog {
			for _, o := range q.q {
				if !o.skip && o.Topic.Kind == topics.KindSightings {
					o.skip = true
					q.sightings--
					shed = append(shed, ShedSightings)
					break
				}
			}
		}
		q.sightings++
	}
	q.q = append(q.q, e)
	for _, r := range shed {
		q.stats.Shed[r]++
	}
	q.mu.Unlock()
	for _, r := range shed {
		if q.o.OnShed != nil {
			q.o.OnShed(r)
		}
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
	if !wait {
		return nil
	}
	select {
	case err := <-e.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run hands the items to Handle until ctx ends; then Put fails with
// ErrClosed, and QoS 1 items still waiting get ErrClosed.
func (q *Queue) Run(ctx context.Context) {
	defer func() {
		q.mu.Lock()
		q.closed = true
		for _, e := range q.q {
			if e.done != nil {
				e.done <- ErrClosed
			}
		}
		q.q = nil
		q.mu.Unlock()
	}()
	for {
		if ctx.Err() != nil {
			return
		}
		q.mu.Lock()
		if len(q.q) == 0 {
			q.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-q.wake:
				continue
			}
		}
		e := q.q[0]
		q.q[0] = nil
		q.q = q.q[1:]
		backlog := len(q.q)
		if !e.skip {
			switch k := e.Topic.Kind; k {
			case topics.KindPose, topics.KindHeartbeat:
				key := latestKey{e.Topic.Robot, k}
				if q.latest[key] == e {
					delete(q.latest, key)
				}
			case topics.KindSightings:
				q.sightings--
			}
		}
		q.mu.Unlock()
		if e.skip {
			continue
		}
		age := q.o.Now().Sub(e.At)
		err := q.o.Handle(e.Item)
		if e.done != nil {
			e.done <- err
		}
		q.mu.Lock()
		q.stats.Handled++
		q.stats.MaxLag = max(q.stats.MaxLag, age)
		q.mu.Unlock()
		if q.o.OnLag != nil {
			q.o.OnLag(age, backlog)
		}
	}
}

// Stats returns a copy of the counters.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.stats
	s.Backlog = len(q.q)
	s.Shed = make(map[string]uint64, len(q.stats.Shed))
	for k, v := range q.stats.Shed {
		s.Shed[k] = v
	}
	return s
}
