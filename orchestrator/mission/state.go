package mission

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// State is one robot's mission and its progress; it is what the store keeps.
type State struct {
	Robot   string `json:"robot"`
	Route   []int  `json:"route"`
	Reached int    `json:"reached"` // steps done; the next step is Route[Reached]
	// Epoch is the orchestrator epoch in which the route was assigned.
	// Checkpoints of older epochs belong to an earlier mission.
	Epoch       uint64    `json:"epoch"`
	Start       *Point    `json:"start,omitempty"`        // where step 0 starts, when known
	StartMarker *int      `json:"start_marker,omitempty"` // marker the robot stood at when assigned
	Log         []Reached `json:"log,omitempty"`
	// FileRoute is the missions file's route this state came from, or the
	// one in force when an operator replaced it: a restart with an edited
	// file starts the file's new route, one with the same file keeps the
	// progress (and any operator change).
	FileRoute []int `json:"file_route,omitempty"`
}

// Reached is one checkpoint taken into account.
type Reached struct {
	Step   int       `json:"step"`
	Marker int       `json:"marker"`
	Epoch  uint64    `json:"epoch"`
	At     time.Time `json:"at"`
}

// New starts a mission.
func New(robot string, route []int, epoch uint64) (*State, error) {
	if err := CheckRoute(route); err != nil {
		return nil, err
	}
	return &State{Robot: robot, Route: slices.Clone(route), Epoch: epoch}, nil
}

// Done reports whether the final goal was reached.
func (s *State) Done() bool { return s.Reached >= len(s.Route) }

// Target is the marker of the next step, and false when done.
func (s *State) Target() (int, bool) {
	if s.Done() {
		return 0, false
	}
	return s.Route[s.Reached], true
}

// Previous is the marker of the last step reached, or the start marker.
func (s *State) Previous() (int, bool) {
	if s.Reached > 0 {
		return s.Route[s.Reached-1], true
	}
	if s.StartMarker != nil {
		return *s.StartMarker, true
	}
	return 0, false
}

// Release is how many steps may be driven: lookahead steps past Reached.
func (s *State) Release(lookahead int) int {
	return min(len(s.Route), s.Reached+max(lookahead, 1))
}

// Outcome of applying a checkpoint.
type Outcome int

const (
	Applied   Outcome = iota // progress recorded
	Duplicate                // already in effect: nothing changes
)

// ErrCheckpoint marks a checkpoint that does not fit the mission.
var ErrCheckpoint = errors.New("checkpoint rejected")

// Apply takes a checkpoint into account. A checkpoint for a step at or after
// Reached whose marker matches the route advances Reached to step+1 (a robot
// only drives released steps, so a later step implies the earlier ones). One
// for an earlier step is a Duplicate. The caller persists the state before
// acknowledging.
func (s *State) Apply(epoch uint64, step, marker int, at time.Time) (Outcome, error) {
	if epoch < s.Epoch {
		return 0, fmt.Errorf("%w: robot %s: epoch %d is older than the mission's %d", ErrCheckpoint, s.Robot, epoch, s.Epoch)
	}
	if step < 0 || step >= len(s.Route) {
		return 0, fmt.Errorf("%w: robot %s: step %d is outside the route of %d steps", ErrCheckpoint, s.Robot, step, len(s.Route))
	}
	if s.Route[step] != marker {
		return 0, fmt.Errorf("%w: robot %s: step %d is marker %d, checkpoint says %d", ErrCheckpoint, s.Robot, step, s.Route[step], marker)
	}
	if step < s.Reached {
		return Duplicate, nil
	}
	s.Reached = step + 1
	s.Log = append(s.Log, Reached{Step: step, Marker: marker, Epoch: epoch, At: at.UTC()})
	return Applied, nil
}

// Clone returns a deep copy.
func (s *State) Clone() *State {
	c := *s
	c.Route = slices.Clone(s.Route)
	c.Log = slices.Clone(s.Log)
	c.FileRoute = slices.Clone(s.FileRoute)
	if s.Start != nil {
		p := *s.Start
		c.Start = &p
	}
	if s.StartMarker != nil {
		m := *s.StartMarker
		c.StartMarker = &m
	}
	return &c
}
