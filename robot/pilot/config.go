package pilot

import (
	"fmt"
	"math"
	"time"

	"collaborate/topics"
)

// Config tunes a pilot. Zero fields take the defaults of DefaultConfig, except
// ID and Faces, which every robot must set.
type Config struct {
	ID      string         // robot id, the sender of everything published
	Faces   topics.FaceIDs // this robot's own face markers, ignored when seen
	Version string         // robot software version, reported in status

	// Marker id spaces. Ids 0..ArenaMaxID are arena markers. A face marker
	// not in the map's roster is FaceBase+4k+f, f indexing topics.FaceNames.
	FaceBase   int // default 100
	ArenaMaxID int // default 49

	MaxSpeedMps float64 // forward speed limit, default 0.25
	MinSpeedMps float64 // creeping speed near the stop distance, default 0.05
	MaxTurnRps  float64 // turn rate limit while tracking, default 1.5
	// MaxAccelMps2: forward (and reverse) speed grows by at most this per
	// second, so that the drive follows the commands odometry integrates.
	// Default 0.4; keep it at or below the drive's own acceleration.
	MaxAccelMps2    float64
	SearchTurnRps   float64 // turn rate while looking for the target, default 0.8
	MapTurnRps      float64 // turn rate of the mapping sweep, default 0.5
	BackoffSpeedMps float64 // reverse speed of a back-off, default 0.1
	HeadingGain     float64 // rad/s of turn per rad of bearing, default 2.5
	// DriveConeRad: the robot drives forward only while the target's bearing
	// is within ±DriveConeRad; beyond it, it turns in place. Default 0.35.
	DriveConeRad float64

	// StopDistanceM: an arena marker is reached when its scaled camera
	// distance is at most this. Markers sit on the wall, so it is > 0.
	StopDistanceM float64 // default 0.35
	// ParkDistanceM is the stop distance at the route's last marker (the
	// final goal). Default: StopDistanceM. Route directives may set both.
	ParkDistanceM float64
	// ParkToleranceM: a park spot (from a route directive) is reached when
	// the pose estimate is this close to it. Default 0.03.
	ParkToleranceM float64
	// FaceStopDistanceM and ForwardConeRad bound the local reflex: another
	// robot's face closer than this and within ±ForwardConeRad of the heading.
	FaceStopDistanceM float64 // default 0.45
	ForwardConeRad    float64 // default 25° (0.436)
	// ReflexHalfWidthM: a face counts only this close to the path sideways.
	// The face is on the other robot's side; this robot's body reaches
	// 0.09 m sideways. Default 0.12. Keep it below the orchestrator's
	// clearance between a path and the side of a robot standing still
	// (traffic.ReserverConfig: 0.24 m to its centre, 0.15 m to its side),
	// or robots will stop for robots the orchestrator routed them past.
	ReflexHalfWidthM float64

	ClearAfter      time.Duration // a yield ends when no face was seen for this long, default 500ms
	YieldTimeout    time.Duration // a yield that lasts this long becomes blocked: the orchestrator decides, default 15s
	TargetLostAfter time.Duration // a target not seen for this long is searched for, default 600ms
	FindTimeout     time.Duration // after a full search turn, fault after this much more, default 5s
	// HiddenTimeout: with a pose and the map, a robot that does not see its
	// target faces where the map has it and waits (another robot may hide
	// it); it faults after this long. Default 60s.
	HiddenTimeout time.Duration
	PoseEvery     time.Duration // pose period while moving, default 200ms (5 Hz)
	PoseIdleEvery time.Duration // pose period while stopped, default 1s
	StatusEvery   time.Duration // status refresh period, default 5s
	// HeartbeatEvery is the period of robots/{id}/heartbeat, default
	// topics.HeartbeatPeriod (0.5 s): the orchestrator takes a robot offline
	// after topics.RobotSilence without any message from it.
	HeartbeatEvery time.Duration
	MaxStepGap     time.Duration // longer gaps between steps count as this much motion, default 500ms
}

// DefaultConfig returns the defaults for robot id with the given faces.
func DefaultConfig(id string, faces topics.FaceIDs) Config {
	return Config{
		ID:                id,
		Faces:             faces,
		FaceBase:          100,
		ArenaMaxID:        49,
		MaxSpeedMps:       0.25,
		MinSpeedMps:       0.05,
		MaxTurnRps:        1.5,
		MaxAccelMps2:      0.4,
		SearchTurnRps:     0.8,
		MapTurnRps:        0.5,
		BackoffSpeedMps:   0.1,
		HeadingGain:       2.5,
		DriveConeRad:      0.35,
		StopDistanceM:     0.35,
		FaceStopDistanceM: 0.45,
		ForwardConeRad:    25 * math.Pi / 180,
		ReflexHalfWidthM:  0.12,
		ClearAfter:        500 * time.Millisecond,
		YieldTimeout:      15 * time.Second,
		TargetLostAfter:   600 * time.Millisecond,
		FindTimeout:       5 * time.Second,
		HiddenTimeout:     time.Minute,
		PoseEvery:         200 * time.Millisecond,
		PoseIdleEvery:     time.Second,
		StatusEvery:       5 * time.Second,
		HeartbeatEvery:    topics.HeartbeatPeriod,
		MaxStepGap:        500 * time.Millisecond,
		ParkToleranceM:    0.03,
	}
}

// FacesAt returns the face ids FaceBase+4k .. FaceBase+4k+3 of robot number k.
func FacesAt(faceBase, k int) topics.FaceIDs {
	b := faceBase + 4*k
	return topics.FaceIDs{Front: b, Left: b + 1, Back: b + 2, Right: b + 3}
}

// withDefaults fills zero fields from DefaultConfig and checks the result.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig(c.ID, c.Faces)
	setF := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	if c.FaceBase == 0 {
		c.FaceBase = d.FaceBase
	}
	if c.ArenaMaxID == 0 {
		c.ArenaMaxID = d.ArenaMaxID
	}
	setF(&c.MaxSpeedMps, d.MaxSpeedMps)
	setF(&c.MinSpeedMps, d.MinSpeedMps)
	setF(&c.MaxTurnRps, d.MaxTurnRps)
	setF(&c.MaxAccelMps2, d.MaxAccelMps2)
	setF(&c.SearchTurnRps, d.SearchTurnRps)
	setF(&c.MapTurnRps, d.MapTurnRps)
	setF(&c.BackoffSpeedMps, d.BackoffSpeedMps)
	setF(&c.HeadingGain, d.HeadingGain)
	setF(&c.DriveConeRad, d.DriveConeRad)
	setF(&c.StopDistanceM, d.StopDistanceM)
	setF(&c.ParkDistanceM, c.StopDistanceM)
	setF(&c.ParkToleranceM, d.ParkToleranceM)
	setF(&c.FaceStopDistanceM, d.FaceStopDistanceM)
	setF(&c.ForwardConeRad, d.ForwardConeRad)
	setF(&c.ReflexHalfWidthM, d.ReflexHalfWidthM)
	setD(&c.ClearAfter, d.ClearAfter)
	setD(&c.YieldTimeout, d.YieldTimeout)
	setD(&c.TargetLostAfter, d.TargetLostAfter)
	setD(&c.FindTimeout, d.FindTimeout)
	setD(&c.HiddenTimeout, d.HiddenTimeout)
	setD(&c.PoseEvery, d.PoseEvery)
	setD(&c.PoseIdleEvery, d.PoseIdleEvery)
	setD(&c.StatusEvery, d.StatusEvery)
	setD(&c.HeartbeatEvery, d.HeartbeatEvery)
	setD(&c.MaxStepGap, d.MaxStepGap)
	return c, c.validate()
}

func (c Config) validate() error {
	if err := topics.CheckRobotID(c.ID); err != nil {
		return fmt.Errorf("pilot config: %w", err)
	}
	faces := []int{c.Faces.Front, c.Faces.Left, c.Faces.Back, c.Faces.Right}
	seen := map[int]bool{}
	for i, id := range faces {
		if id <= c.ArenaMaxID {
			return fmt.Errorf("pilot config: face %s id %d must be above the arena ids 0..%d", topics.FaceNames[i], id, c.ArenaMaxID)
		}
		if seen[id] {
			return fmt.Errorf("pilot config: face id %d is used twice", id)
		}
		seen[id] = true
	}
	if c.ArenaMaxID < 0 || c.FaceBase <= c.ArenaMaxID {
		return fmt.Errorf("pilot config: face_base %d must be above arena_max_id %d >= 0", c.FaceBase, c.ArenaMaxID)
	}
	for name, v := range map[string]float64{
		"max_speed_mps": c.MaxSpeedMps, "min_speed_mps": c.MinSpeedMps, "max_turn_rps": c.MaxTurnRps, "max_accel_mps2": c.MaxAccelMps2,
		"search_turn_rps": c.SearchTurnRps, "map_turn_rps": c.MapTurnRps, "backoff_speed_mps": c.BackoffSpeedMps,
		"heading_gain": c.HeadingGain, "drive_cone_rad": c.DriveConeRad, "stop_distance_m": c.StopDistanceM,
		"park_distance_m":      c.ParkDistanceM,
		"face_stop_distance_m": c.FaceStopDistanceM, "forward_cone_rad": c.ForwardConeRad, "reflex_half_width_m": c.ReflexHalfWidthM,
	} {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("pilot config: %s must be a finite number > 0, got %v", name, v)
		}
	}
	if c.MinSpeedMps > c.MaxSpeedMps {
		return fmt.Errorf("pilot config: min_speed_mps %v is above max_speed_mps %v", c.MinSpeedMps, c.MaxSpeedMps)
	}
	for name, v := range map[string]time.Duration{
		"clear_after": c.ClearAfter, "yield_timeout": c.YieldTimeout, "target_lost_after": c.TargetLostAfter, "find_timeout": c.FindTimeout, "hidden_timeout": c.HiddenTimeout,
		"pose_every": c.PoseEvery, "pose_idle_every": c.PoseIdleEvery, "status_every": c.StatusEvery, "heartbeat_every": c.HeartbeatEvery,
		"max_step_gap": c.MaxStepGap,
	} {
		if v < 0 {
			return fmt.Errorf("pilot config: %s must be >= 0, got %v", name, v)
		}
	}
	return nil
}
