package topics

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// FieldError is a rejected payload: which message, which field, what is wrong.
// Its text reads like "pose: distance_m must be >= 0, got -3".
type FieldError struct {
	Message string // message name, e.g. "pose"
	Field   string // JSON field path, e.g. "seen[2].bearing_rad"; empty for the payload as a whole
	Problem string // e.g. "must be >= 0, got -3"
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Message + ": " + e.Problem
	}
	return e.Message + ": " + e.Field + " " + e.Problem
}

// checker collects the first problem found while validating one message.
type checker struct {
	msg string
	err *FieldError
	// list and index name the list element being checked (seen[2]): field
	// names are then within it. The path is only built when something fails.
	list  string
	index int
}

func (c *checker) fail(field, format string, args ...any) {
	if c.err != nil {
		return
	}
	if c.list != "" {
		elem := c.list + "[" + strconv.Itoa(c.index) + "]"
		if field != "" {
			elem += "." + field
		}
		field = elem
	}
	c.err = &FieldError{Message: c.msg, Field: field, Problem: fmt.Sprintf(format, args...)}
}

// at names the list element checked next; at("", 0) leaves the list.
func (c *checker) at(list string, index int) { c.list, c.index = list, index }

func (c *checker) result() error {
	if c.err == nil {
		return nil
	}
	return c.err
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// finite rejects NaN and ±Inf.
func (c *checker) finite(field string, v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		c.fail(field, "must be a finite number, got %s", num(v))
		return false
	}
	return true
}

func (c *checker) atLeast(field string, v, min float64) {
	if c.finite(field, v) && v < min {
		c.fail(field, "must be >= %s, got %s", num(min), num(v))
	}
}

func (c *checker) positive(field string, v float64) {
	if c.finite(field, v) && v <= 0 {
		c.fail(field, "must be > 0, got %s", num(v))
	}
}

func (c *checker) within(field string, v, lo, hi float64) {
	if c.finite(field, v) && (v < lo || v > hi) {
		c.fail(field, "must be within [%s, %s], got %s", num(lo), num(hi), num(v))
	}
}

func (c *checker) bearing(field string, v float64) {
	if c.finite(field, v) && (v < -math.Pi || v > math.Pi) {
		c.fail(field, "must be within ±π, got %s", num(v))
	}
}

func (c *checker) optFinite(field string, v *float64) {
	if v != nil {
		c.finite(field, *v)
	}
}

func (c *checker) marker(field string, id int) {
	if id < 0 {
		c.fail(field, "must be a marker id >= 0, got %d", id)
	}
}

func (c *checker) optMarker(field string, id *int) {
	if id != nil {
		c.marker(field, *id)
	}
}

func (c *checker) nonNegInt(field string, v int) {
	if v < 0 {
		c.fail(field, "must be >= 0, got %d", v)
	}
}

func (c *checker) oneOf(field, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		c.fail(field, "must be one of %v, got %q", allowed, v)
	}
}

func (c *checker) robotID(field, v string) {
	if !ValidRobotID(v) {
		c.fail(field, "must match [A-Za-z0-9_-]{1,32}, got %q", v)
	}
}

func (c *checker) header(h Header) {
	if h.V < 1 || h.V > Version {
		c.fail("v", "must be a contract version from 1 to %d, got %d", Version, h.V)
	}
	c.robotID("sender", h.Sender)
	if h.TS.IsZero() {
		c.fail("ts", "must be set")
	} else if y := h.TS.UTC().Year(); y < 1970 || y > 9999 {
		// JSON cannot carry years outside 0–9999, and nothing of ours
		// happened before 1970 (a Pi without a real-time clock boots there).
		c.fail("ts", "must be a time from 1970 to 9999, got %s", h.TS.UTC().Format(time.RFC3339Nano))
	}
}

// Validate checks a Status.
func (m *Status) Validate() error {
	c := checker{msg: "status"}
	c.header(m.Header)
	c.oneOf("state", m.State, RobotStates)
	if f := m.Faces; f != nil {
		c.marker("faces.front", f.Front)
		c.marker("faces.left", f.Left)
		c.marker("faces.back", f.Back)
		c.marker("faces.right", f.Right)
	}
	c.nonNegInt("step", m.Step)
	c.optMarker("target", m.Target)
	return c.result()
}

// Validate checks a Pose.
func (m *Pose) Validate() error {
	c := checker{msg: "pose"}
	c.header(m.Header)
	c.oneOf("state", m.State, RobotStates)
	c.optMarker("target", m.Target)
	if m.DistanceM != nil {
		c.atLeast("distance_m", *m.DistanceM, 0)
	}
	c.position(m.XM, m.YM, m.ThetaRad)
	c.finite("speed_mps", m.SpeedMps)
	c.nonNegInt("step", m.Step)
	return c.result()
}

// position checks an optional arena position: x_m and y_m together,
// finite, theta_rad within ±π.
func (c *checker) position(x, y, theta *float64) {
	c.optFinite("x_m", x)
	c.optFinite("y_m", y)
	if theta != nil {
		c.bearing("theta_rad", *theta)
	}
	if (x == nil) != (y == nil) {
		c.fail("x_m", "and y_m must be given together")
	}
}

var markerKinds = []string{MarkerArena, MarkerFace}

func (c *checker) sighting(s *Sighting) {
	c.marker("id", s.MarkerID)
	c.oneOf("kind", s.Kind, markerKinds)
	if s.Kind == MarkerFace {
		if s.Robot != "" {
			c.robotID("robot", s.Robot)
		}
		c.oneOf("face", s.Face, FaceNames)
	}
	c.atLeast("distance_m", s.DistanceM, 0)
	c.bearing("bearing_rad", s.BearingRad)
}

// Validate checks Sightings.
func (m *Sightings) Validate() error {
	c := checker{msg: "sightings"}
	c.header(m.Header)
	c.optFinite("heading_rad", m.HeadingRad)
	for i := range m.Seen {
		c.at("seen", i)
		c.sighting(&m.Seen[i])
	}
	c.at("", 0)
	return c.result()
}

// Validate checks a Checkpoint.
func (m *Checkpoint) Validate() error {
	c := checker{msg: "checkpoint"}
	c.header(m.Header)
	c.marker("marker", m.Marker)
	c.nonNegInt("step", m.Step)
	return c.result()
}

// Validate checks an Event.
func (m *Event) Validate() error {
	c := checker{msg: "event"}
	c.header(m.Header)
	c.oneOf("kind", m.Kind, EventKinds)
	if m.Other != "" {
		c.robotID("other", m.Other)
	}
	if m.Face != "" {
		c.oneOf("face", m.Face, FaceNames)
	}
	if m.Kind == EventBlocked {
		c.oneOf("face", m.Face, FaceNames)
	}
	c.optMarker("marker", m.Marker)
	if m.DistanceM != nil {
		c.atLeast("distance_m", *m.DistanceM, 0)
	}
	return c.result()
}

// Validate checks a Directive.
func (m *Directive) Validate() error {
	c := checker{msg: "directive"}
	c.header(m.Header)
	c.oneOf("kind", m.Kind, DirectiveKinds)
	for i, id := range m.Route {
		c.at("route", i)
		c.marker("", id)
	}
	c.at("", 0)
	c.nonNegInt("released", m.Released)
	c.nonNegInt("step", m.Step)
	if m.Kind == DirRoute {
		if len(m.Route) == 0 {
			c.fail("route", "must name at least one marker")
		}
		if m.Released > len(m.Route) {
			c.fail("released", "must be <= len(route) = %d, got %d", len(m.Route), m.Released)
		}
		if m.Step > len(m.Route) {
			c.fail("step", "must be <= len(route) = %d, got %d", len(m.Route), m.Step)
		}
	}
	c.atLeast("backoff_m", m.BackoffM, 0)
	c.within("stop_m", m.StopM, 0, MaxStopM)
	c.optFinite("park_x_m", m.ParkXM)
	c.optFinite("park_y_m", m.ParkYM)
	if (m.ParkXM == nil) != (m.ParkYM == nil) {
		c.fail("park_x_m", "and park_y_m go together: give both or neither")
	}
	if m.Kind == DirBackoff && m.BackoffM <= 0 {
		c.fail("backoff_m", "must be > 0 for a backoff, got %s", num(m.BackoffM))
	}
	return c.result()
}

// MaxStopM bounds a directive's stop_m: markers sit on the wall, and a robot
// told to stop farther than this from one has a wrong directive.
const MaxStopM = 2.0

var fleetKinds = []string{FleetStop, FleetResume}

// Validate checks a FleetCommand.
func (m *FleetCommand) Validate() error {
	c := checker{msg: "fleet_cmd"}
	c.header(m.Header)
	c.oneOf("kind", m.Kind, fleetKinds)
	return c.result()
}

// Validate checks a FleetMap.
func (m *FleetMap) Validate() error {
	c := checker{msg: "fleet_map"}
	c.header(m.Header)
	c.positive("diameter_m", m.DiameterM)
	c.atLeast("measured_diameter_m", m.MeasuredDiameterM, 0)
	c.positive("scale", m.Scale)
	seen := map[int]bool{}
	for i, mk := range m.Markers {
		c.at("markers", i)
		c.marker("id", mk.ID)
		if seen[mk.ID] {
			c.fail("id", "must be unique, got %d twice", mk.ID)
		}
		seen[mk.ID] = true
		c.finite("x_m", mk.XM)
		c.finite("y_m", mk.YM)
		c.nonNegInt("samples", mk.Samples)
	}
	c.at("", 0)
	if m.MappedBy != "" {
		c.robotID("mapped_by", m.MappedBy)
	}
	for i, r := range m.Roster {
		c.at("roster", i)
		c.robotID("robot", r.Robot)
		c.marker("faces.front", r.Faces.Front)
		c.marker("faces.left", r.Faces.Left)
		c.marker("faces.back", r.Faces.Back)
		c.marker("faces.right", r.Faces.Right)
	}
	c.at("", 0)
	return c.result()
}

var orchStates = []string{OrchOnline, OrchOffline}

// Validate checks an OrchestratorState.
func (m *OrchestratorState) Validate() error {
	c := checker{msg: "orchestrator_status"}
	c.header(m.Header)
	c.oneOf("state", m.State, orchStates)
	return c.result()
}

// Validate checks a Heartbeat.
func (m *Heartbeat) Validate() error {
	c := checker{msg: "heartbeat"}
	c.header(m.Header)
	c.oneOf("state", m.State, RobotStates)
	c.nonNegInt("step", m.Step)
	c.position(m.XM, m.YM, m.ThetaRad)
	return c.result()
}

// Validate checks an OrchestratorHeartbeat.
func (m *OrchestratorHeartbeat) Validate() error {
	c := checker{msg: "orchestrator_heartbeat"}
	c.header(m.Header)
	return c.result()
}

// Validate checks a World.
func (m *World) Validate() error {
	c := checker{msg: "world"}
	c.header(m.Header)
	c.atLeast("sim_time_s", m.SimTimeS, 0)
	c.positive("diameter_m", m.DiameterM)
	c.nonNegInt("collisions", m.Collisions)
	for i, r := range m.Robots {
		c.at("robots", i)
		c.robotID("robot", r.Robot)
		c.finite("x_m", r.XM)
		c.finite("y_m", r.YM)
		c.finite("theta_rad", r.ThetaRad)
		c.finite("speed_mps", r.SpeedMps)
	}
	c.at("", 0)
	return c.result()
}
