package fleet

import (
	"slices"
	"sort"
	"time"

	"collaborate/topics"
)

// Offline reasons.
const (
	ByWill    = "will"
	BySilence = "silence"
)

// Robot is what is known of one robot.
type Robot struct {
	ID            string
	Online        bool
	OfflineReason string // ByWill or BySilence when offline
	State         string // last reported state
	Faces         *topics.FaceIDs
	Status        *topics.Status // last status
	Pose          *topics.Pose   // last pose
	LastSeen      time.Time      // time of the last message of any kind
	OnlineSince   time.Time
	LastMarker    *int // last checkpoint marker reached, of any mission
	LastEvent     string
	// The last position reported, by a pose or a heartbeat.
	x, y   float64
	hasPos bool
}

// Change is what a message did to a robot's presence.
type Change int

const (
	Same       Change = iota
	CameOnline        // was offline or unknown
	WentOffline
)

// Registry holds the robots by id.
type Registry struct {
	robots map[string]*Robot
	ids    []string // sorted; kept so that IDs does not sort on every tick
}

// New returns an empty registry.
func New() *Registry { return &Registry{robots: map[string]*Robot{}} }

func (r *Registry) get(id string) *Robot {
	rb, ok := r.robots[id]
	if !ok {
		rb = &Robot{ID: id}
		r.robots[id] = rb
		i, _ := slices.BinarySearch(r.ids, id)
		r.ids = slices.Insert(r.ids, i, id)
	}
	return rb
}

// Get returns a robot, if known.
func (r *Registry) Get(id string) (*Robot, bool) {
	rb, ok := r.robots[id]
	return rb, ok
}

// Len is the number of robots known.
func (r *Registry) Len() int { return len(r.robots) }

// IDs returns the known robot ids, sorted. The slice is shared: read only,
// and valid until the next new robot.
func (r *Registry) IDs() []string { return r.ids }

// seen marks any message from a robot; it brings it back online.
func (r *Registry) seen(now time.Time, id string) (*Robot, Change) {
	rb := r.get(id)
	rb.LastSeen = now
	if !rb.Online {
		rb.Online = true
		rb.OfflineReason = ""
		rb.OnlineSince = now
		return rb, CameOnline
	}
	return rb, Same
}

// Seen records a message that carries nothing else the registry keeps.
func (r *Registry) Seen(now time.Time, id string) Change {
	_, ch := r.seen(now, id)
	return ch
}

// Status records a status; state "offline" is the last will.
func (r *Registry) Status(now time.Time, id string, s *topics.Status) Change {
	if s.State == topics.StateOffline {
		rb := r.get(id)
		rb.Status, rb.State = s, s.State
		if rb.Online {
			rb.Online, rb.OfflineReason = false, ByWill
			return WentOffline
		}
		if rb.OfflineReason == "" {
			rb.OfflineReason = ByWill
		}
		return Same
	}
	rb, ch := r.seen(now, id)
	rb.Status, rb.State = s, s.State
	if s.Faces != nil {
		f := *s.Faces
		rb.Faces = &f
	}
	return ch
}

// Pose records a pose.
func (r *Registry) Pose(now time.Time, id string, p *topics.Pose) Change {
	rb, ch := r.seen(now, id)
	rb.Pose, rb.State = p, p.State
	rb.setPos(p.XM, p.YM)
	return ch
}

func (rb *Robot) setPos(x, y *float64) {
	if x != nil && y != nil {
		rb.x, rb.y, rb.hasPos = *x, *y, true
	}
}

// Heartbeat records a heartbeat: the state and the position it reports.
func (r *Registry) Heartbeat(now time.Time, id string, hb *topics.Heartbeat) Change {
	rb, ch := r.seen(now, id)
	rb.State = hb.State
	rb.setPos(hb.XM, hb.YM)
	return ch
}

// Checkpoint records the marker a robot reached.
func (r *Registry) Checkpoint(now time.Time, id string, marker int) Change {
	rb, ch := r.seen(now, id)
	m := marker
	rb.LastMarker = &m
	return ch
}

// Event records an event's kind.
func (r *Registry) Event(now time.Time, id string, kind string) Change {
	rb, ch := r.seen(now, id)
	rb.LastEvent = kind
	return ch
}

// Expire marks offline every online robot silent for longer than timeout and
// returns their ids, sorted.
func (r *Registry) Expire(now time.Time, timeout time.Duration) []string {
	var out []string
	for id, rb := range r.robots {
		if rb.Online && now.Sub(rb.LastSeen) > timeout {
			rb.Online, rb.OfflineReason = false, BySilence
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Roster lists the face markers of every robot that reported them, sorted
// by robot id.
func (r *Registry) Roster() []topics.RosterEntry {
	var out []topics.RosterEntry
	for _, id := range r.IDs() {
		if f := r.robots[id].Faces; f != nil {
			out = append(out, topics.RosterEntry{Robot: id, Faces: *f})
		}
	}
	return out
}

// Position is the robot's last reported arena position (by a pose or a
// heartbeat), when it gave one.
func (rb *Robot) Position() (x, y float64, ok bool) {
	return rb.x, rb.y, rb.hasPos
}
