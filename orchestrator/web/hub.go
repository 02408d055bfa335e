package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"collaborate/orchestrator/core"
	"collaborate/topics"
)

// Source is the orchestrator state the dashboard shows; *core.Runner
// implements it.
type Source interface {
	Fleet() core.FleetView
	Map() *topics.FleetMap
}

var _ Source = (*core.Runner)(nil)

// Conflict is a point where a robot was held for another.
type Conflict struct {
	Robot  string  `json:"robot"`          // the robot held
	With   string  `json:"with,omitempty"` // the robot it yields to, "" for a static obstacle
	XM     float64 `json:"x_m"`
	YM     float64 `json:"y_m"`
	Reason string  `json:"reason,omitempty"`
}

// ConflictSource is optional: a Source that also implements it has its
// active conflict points drawn on the arena.
type ConflictSource interface {
	Conflicts() []Conflict
}

// PoseView is the last pose a robot reported, as the hub keeps it: the
// fleet view lacks heading and speed.
type PoseView struct {
	State     string    `json:"state"`
	XM        *float64  `json:"x_m,omitempty"`
	YM        *float64  `json:"y_m,omitempty"`
	ThetaRad  *float64  `json:"theta_rad,omitempty"`
	SpeedMps  float64   `json:"speed_mps"`
	Target    *int      `json:"target,omitempty"`
	DistanceM *float64  `json:"distance_m,omitempty"`
	Step      int       `json:"step"`
	TS        time.Time `json:"ts"`
}

// LogEntry is one line of the dashboard's event log: a robot event, a
// checkpoint, a directive or a fleet command.
type LogEntry struct {
	TS     time.Time `json:"ts"`
	Robot  string    `json:"robot,omitempty"`
	Kind   string    `json:"kind"` // event kind, "checkpoint", "cmd:<kind>", "fleet:<kind>", "status"
	Marker *int      `json:"marker,omitempty"`
	Step   *int      `json:"step,omitempty"`
	Final  bool      `json:"final,omitempty"`
	Other  string    `json:"other,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// Snapshot is what /events pushes: everything the page draws.
type Snapshot struct {
	Fleet        core.FleetView       `json:"fleet"`
	Map          *topics.FleetMap     `json:"map"`
	Poses        map[string]PoseView  `json:"poses"`
	World        *topics.World        `json:"world"` // --sim ground truth, else null
	Orchestrator *OrchestratorView    `json:"orchestrator"`
	Conflicts    []Conflict           `json:"conflicts"`
	Checkpoints  []LogEntry           `json:"checkpoints"` // newest last
	Log          []LogEntry           `json:"log"`         // newest last
	Statuses     map[string]StatusBit `json:"statuses"`
	DiameterM    float64              `json:"diameter_m"`     // fallback before a map exists
	RobotRadiusM float64              `json:"robot_radius_m"` // for drawing to scale
}

// OrchestratorView is the retained orchestrator/status.
type OrchestratorView struct {
	State string `json:"state"`
	Epoch uint64 `json:"epoch"`
}

// StatusBit is what a robot's retained status adds to the fleet view.
type StatusBit struct {
	Reason  string `json:"reason,omitempty"`
	Version string `json:"version,omitempty"`
}

// HubOptions tune a Hub. Zero values take the defaults noted.
type HubOptions struct {
	Coalesce     time.Duration // at most one push per this interval; default 50 ms
	Refresh      time.Duration // push at least this often when state changed silently; default 1 s
	Keepalive    time.Duration // SSE comment to idle clients; default 15 s
	MaxClients   int           // default 32
	LogSize      int           // log entries kept; default 60
	Checkpoints  int           // checkpoints kept; default 20
	DiameterM    float64       // arena diameter before a map exists; default 3 m
	RobotRadiusM float64       // default 0.08 m
	Log          zerolog.Logger
}

// Hub turns MQTT traffic into dashboard snapshots and pushes them to the
// browsers connected to /events. Notify and ServeHTTP are safe for
// concurrent use; Run must be running for pushes to happen.
type Hub struct {
	src  Source
	opts HubOptions

	mu          sync.Mutex
	poses       map[string]PoseView
	statuses    map[string]StatusBit
	world       *topics.World
	orch        *OrchestratorView
	log         []LogEntry
	checkpoints []LogEntry
	clients     map[*client]struct{}
	last        []byte // last snapshot pushed

	kick   chan struct{}
	done   chan struct{}
	closed bool
	pushes uint64
}

type client struct{ ch chan []byte }

// NewHub builds a hub over src.
func NewHub(src Source, o HubOptions) *Hub {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Coalesce, 50*time.Millisecond)
	def(&o.Refresh, time.Second)
	def(&o.Keepalive, 15*time.Second)
	if o.MaxClients <= 0 {
		o.MaxClients = 32
	}
	if o.LogSize <= 0 {
		o.LogSize = 60
	}
	if o.Checkpoints <= 0 {
		o.Checkpoints = 20
	}
	if o.DiameterM <= 0 {
		o.DiameterM = 3
	}
	if o.RobotRadiusM <= 0 {
		o.RobotRadiusM = 0.08
	}
	return &Hub{src: src, opts: o, poses: map[string]PoseView{}, statuses: map[string]StatusBit{},
		clients: map[*client]struct{}{}, kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// Notify takes one MQTT message in its wire form; Take is the same for a
// message already decoded, as the orchestrator hands them over.
func (h *Hub) Notify(topic string, payload []byte) {
	t, msg, err := topics.DecodeTopic(topic, payload)
	if err != nil {
		return
	}
	h.Take(t, msg)
}

// Take takes one decoded message (robots/#, fleet/#, sim/world,
// orchestrator/status) and schedules a push. Call it after the core has
// seen the message, so the snapshot includes its effect.
func (h *Hub) Take(t topics.Topic, msg topics.Message) {
	h.mu.Lock()
	h.take(t, msg)
	h.mu.Unlock()
	h.Changed()
}

// Changed schedules a push without a message: after an operator action, or
// when the core's state changed on its own (a silence timeout).
func (h *Hub) Changed() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

func (h *Hub) take(t topics.Topic, msg topics.Message) {
	switch m := msg.(type) {
	case *topics.Pose:
		h.poses[t.Robot] = PoseView{State: m.State, XM: m.XM, YM: m.YM, ThetaRad: m.ThetaRad,
			SpeedMps: m.SpeedMps, Target: m.Target, DistanceM: m.DistanceM, Step: m.Step, TS: m.TS}
	case *topics.Status:
		h.statuses[t.Robot] = StatusBit{Reason: m.Reason, Version: m.Version}
		if p, ok := h.poses[t.Robot]; ok {
			p.State = m.State
			h.poses[t.Robot] = p
		}
		if m.State == topics.StateOffline || m.State == topics.StateFault || m.State == topics.StateFailsafe {
			h.append(LogEntry{TS: m.TS, Robot: t.Robot, Kind: "status", Detail: join(m.State, m.Reason)})
		}
	case *topics.Checkpoint:
		mk, st := m.Marker, m.Step
		e := LogEntry{TS: m.TS, Robot: t.Robot, Kind: "checkpoint", Marker: &mk, Step: &st, Final: m.Final}
		h.checkpoints = appendRing(h.checkpoints, e, h.opts.Checkpoints)
		h.append(e)
	case *topics.Event:
		if m.Kind == topics.EventAck {
			return // one per directive: the directive itself is in the log
		}
		h.append(LogEntry{TS: m.TS, Robot: t.Robot, Kind: m.Kind, Marker: m.Marker, Other: m.Other,
			Detail: join(m.Face, m.Detail)})
	case *topics.Directive:
		d := m.Reason
		if m.Kind == topics.DirRoute {
			d = join(fmt.Sprintf("route %v, released %d from step %d", m.Route, m.Released, m.Step), m.Reason)
		}
		h.append(LogEntry{TS: m.TS, Robot: t.Robot, Kind: "cmd:" + m.Kind, Detail: d})
	case *topics.FleetCommand:
		h.append(LogEntry{TS: m.TS, Kind: "fleet:" + m.Kind})
	case *topics.World:
		w := *m
		h.world = &w
	case *topics.OrchestratorState:
		h.orch = &OrchestratorView{State: m.State, Epoch: m.Epoch}
	case *topics.FleetMap:
		h.append(LogEntry{TS: m.TS, Kind: "map", Detail: fmt.Sprintf("%d markers, scale %.3f", len(m.Markers), m.Scale)})
	}
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ": " + b
}

func (h *Hub) append(e LogEntry) { h.log = appendRing(h.log, e, h.opts.LogSize) }

func appendRing(s []LogEntry, e LogEntry, n int) []LogEntry {
	s = append(s, e)
	if len(s) > n {
		s = append(s[:0:0], s[len(s)-n:]...)
	}
	return s
}

// Snapshot builds the current snapshot.
func (h *Hub) Snapshot() Snapshot {
	fv := h.src.Fleet()
	s := Snapshot{Fleet: fv, Map: h.src.Map(), DiameterM: h.opts.DiameterM, RobotRadiusM: h.opts.RobotRadiusM,
		Conflicts: []Conflict{}}
	if cs, ok := h.src.(ConflictSource); ok {
		if c := cs.Conflicts(); c != nil {
			s.Conflicts = c
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s.Poses = make(map[string]PoseView, len(h.poses))
	for k, v := range h.poses {
		s.Poses[k] = v
	}
	s.Statuses = make(map[string]StatusBit, len(h.statuses))
	for k, v := range h.statuses {
		s.Statuses[k] = v
	}
	if h.world != nil {
		w := *h.world
		s.World = &w
	}
	if h.orch != nil {
		o := *h.orch
		s.Orchestrator = &o
	}
	s.Log = append([]LogEntry{}, h.log...)
	s.Checkpoints = append([]LogEntry{}, h.checkpoints...)
	return s
}

func (h *Hub) encode() ([]byte, error) {
	b, err := json.Marshal(h.Snapshot())
	if err != nil {
		return nil, fmt.Errorf("web: encode snapshot: %w", err)
	}
	return b, nil
}

// Run pushes snapshots until ctx ends: at once on a change when the last
// push is older than Coalesce, else at the end of that interval, so a
// message reaches the browsers within Coalesce plus the time to encode;
// and every Refresh, when the state changed without a message.
func (h *Hub) Run(ctx context.Context) {
	defer h.shutdown()
	timer := time.NewTimer(0)
	if !timer.Stop() {
		<-timer.C
	}
	refresh := time.NewTicker(h.opts.Refresh)
	defer refresh.Stop()
	var lastPush time.Time
	pending := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
			if pending {
				continue
			}
			if wait := h.opts.Coalesce - time.Since(lastPush); wait > 0 {
				timer.Reset(wait)
				pending = true
				continue
			}
			h.push()
			lastPush = time.Now()
		case <-timer.C:
			pending = false
			h.push()
			lastPush = time.Now()
		case <-refresh.C:
			if !pending {
				h.push()
			}
		}
	}
}

func (h *Hub) shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// push sends the snapshot to every client when it differs from the last.
func (h *Hub) push() {
	h.mu.Lock()
	idle := len(h.clients) == 0
	if idle {
		h.last = nil // a dashboard that opens gets its own snapshot
	}
	h.mu.Unlock()
	if idle {
		return // nobody watches: no snapshot to encode
	}
	b, err := h.encode()
	if err != nil {
		h.opts.Log.Error().Err(err).Msg("dashboard snapshot")
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if bytes.Equal(b, h.last) {
		return
	}
	h.last = b
	h.pushes++
	for c := range h.clients {
		offer(c.ch, b)
	}
}

// offer replaces whatever a slow client has not taken yet: it only ever
// needs the latest snapshot.
func offer(ch chan []byte, b []byte) {
	for {
		select {
		case ch <- b:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// Pushes is how many distinct snapshots were pushed; for tests.
func (h *Hub) Pushes() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pushes
}

// Clients is the number of browsers connected to /events.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// ServeHTTP is GET /events: a text/event-stream of "snapshot" events, the
// first one at once.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeErr(w, http.StatusMethodNotAllowed, "GET /events only")
		return
	}
	rc := http.NewResponseController(w)
	c := &client{ch: make(chan []byte, 1)}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		writeErr(w, http.StatusServiceUnavailable, "dashboard is shutting down")
		return
	}
	if len(h.clients) >= h.opts.MaxClients {
		h.mu.Unlock()
		writeErr(w, http.StatusServiceUnavailable, fmt.Sprintf("too many dashboards open (%d)", h.opts.MaxClients))
		return
	}
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.clients, c)
		h.mu.Unlock()
	}()
	first, err := h.encode()
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err.Error())
		return
	}
	offer(c.ch, first)

	// A server WriteTimeout would cut the stream: each write gets its own
	// deadline instead, so a stuck browser cannot pin the goroutine.
	_ = rc.SetWriteDeadline(time.Time{})
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(s ...[]byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		for _, p := range s {
			if _, err := w.Write(p); err != nil {
				return false
			}
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 1000\n\n")) {
		return
	}
	ka := time.NewTicker(h.opts.Keepalive)
	defer ka.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		case b := <-c.ch:
			if !write([]byte("event: snapshot\ndata: "), b, []byte("\n\n")) {
				return
			}
		case <-ka.C:
			if !write([]byte(": keepalive\n\n")) {
				return
			}
		}
	}
}
