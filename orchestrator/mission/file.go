package mission

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"

	"gopkg.in/yaml.v3"

	"collaborate/topics"
)

// ErrInvalid marks a mission or missions file that cannot be accepted.
var ErrInvalid = errors.New("invalid mission")

// File is the missions file.
//
//	arena:
//	  diameter_m: 3.0        # required, > 0: the calibration reference
//	mapper: r1               # optional: the robot that runs the mapping sweep
//	default_speed_mps: 0.2   # optional cruise speed for traffic time windows
//	robots:
//	  r1:
//	    speed_mps: 0.25      # optional
//	    start: {x_m: 0, y_m: 0}  # optional: where step 0 starts, arena frame
//	    route: [3, 7, 11]    # marker ids, the last is the final goal
type File struct {
	Arena           Arena            `yaml:"arena"`
	Mapper          string           `yaml:"mapper,omitempty"`
	DefaultSpeedMps float64          `yaml:"default_speed_mps,omitempty"`
	Robots          map[string]Robot `yaml:"robots"`
}

// Arena is the configured arena.
type Arena struct {
	DiameterM float64 `yaml:"diameter_m"`
}

// Robot is one robot's entry in the missions file.
type Robot struct {
	SpeedMps float64 `yaml:"speed_mps,omitempty"`
	Start    *Point  `yaml:"start,omitempty"`
	Route    []int   `yaml:"route"`
}

// Point is a position in the arena frame, metres.
type Point struct {
	XM float64 `yaml:"x_m" json:"x_m"`
	YM float64 `yaml:"y_m" json:"y_m"`
}

// Load reads and validates a missions file.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load missions %s: %w", path, err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load missions %s: %w", path, err)
	}
	return f, nil
}

// Parse decodes and validates a missions file. Unknown keys are rejected so
// that a typo does not silently drop a setting.
func Parse(b []byte) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: yaml: %v", ErrInvalid, err)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Validate checks everything that can be checked without the map.
func (f *File) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if !(f.Arena.DiameterM > 0) || math.IsInf(f.Arena.DiameterM, 0) {
		return bad("arena.diameter_m must be a finite number > 0, got %v", f.Arena.DiameterM)
	}
	if f.Mapper != "" && !topics.ValidRobotID(f.Mapper) {
		return bad("mapper %q must match [A-Za-z0-9_-]{1,32}", f.Mapper)
	}
	if f.DefaultSpeedMps < 0 || math.IsNaN(f.DefaultSpeedMps) || math.IsInf(f.DefaultSpeedMps, 0) {
		return bad("default_speed_mps must be a finite number >= 0, got %v", f.DefaultSpeedMps)
	}
	goals := map[int]string{}
	for _, id := range f.RobotIDs() {
		r := f.Robots[id]
		if !topics.ValidRobotID(id) {
			return bad("robots.%s: robot id must match [A-Za-z0-9_-]{1,32}", id)
		}
		if r.SpeedMps < 0 || math.IsNaN(r.SpeedMps) || math.IsInf(r.SpeedMps, 0) {
			return bad("robots.%s.speed_mps must be a finite number >= 0, got %v", id, r.SpeedMps)
		}
		if r.Start != nil && (!finite(r.Start.XM) || !finite(r.Start.YM)) {
			return bad("robots.%s.start must be finite", id)
		}
		if err := CheckRoute(r.Route); err != nil {
			return fmt.Errorf("robots.%s: %w", id, err)
		}
		goal := r.Route[len(r.Route)-1]
		if other, ok := goals[goal]; ok {
			return bad("robots.%s and robots.%s both end at marker %d: a robot parks at its final goal, so final goals must differ", other, id, goal)
		}
		goals[goal] = id
	}
	return nil
}

// RobotIDs returns the robots of the file, sorted.
func (f *File) RobotIDs() []string {
	ids := make([]string, 0, len(f.Robots))
	for id := range f.Robots {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// SpeedOf is the cruise speed of a robot: its own, else the file's default,
// else def.
func (f *File) SpeedOf(id string, def float64) float64 {
	if f == nil {
		return def
	}
	if r, ok := f.Robots[id]; ok && r.SpeedMps > 0 {
		return r.SpeedMps
	}
	if f.DefaultSpeedMps > 0 {
		return f.DefaultSpeedMps
	}
	return def
}

// CheckRoute checks a route on its own: not empty, marker ids >= 0, no
// marker twice in a row (a zero-length step).
func CheckRoute(route []int) error {
	if len(route) == 0 {
		return fmt.Errorf("%w: empty route: a route needs at least one marker", ErrInvalid)
	}
	for i, id := range route {
		if id < 0 {
			return fmt.Errorf("%w: route[%d] = %d: marker ids are >= 0", ErrInvalid, i, id)
		}
		if i > 0 && route[i-1] == id {
			return fmt.Errorf("%w: route[%d] = %d repeats the previous marker", ErrInvalid, i, id)
		}
	}
	return nil
}

// ErrNotOnMap marks a route naming a marker the map does not have.
var ErrNotOnMap = errors.New("marker not on the map")

// CheckOnMap checks that every marker of a route is on the map.
func CheckOnMap(route []int, onMap func(id int) bool) error {
	for i, id := range route {
		if !onMap(id) {
			return fmt.Errorf("%w: route[%d] = %d", ErrNotOnMap, i, id)
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
