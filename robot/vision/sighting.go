package vision

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"collaborate/robot/hw"
	"collaborate/robot/vision/aruco"
)

// Sighting is one marker of one frame, classified by id and ranged.
type Sighting struct {
	ID      int
	Kind    string        // KindArena, KindFace or KindUnknown
	Corners [4][2]float64 // pixels, as detected
	// Ranged is false when the distance is unknown: an id in neither range
	// (no known side length), or geometry that failed; Reject says why.
	Ranged          bool
	Reject          string
	CameraDistanceM float64 // pinhole distance, before the map's scale
	DistanceM       float64 // CameraDistanceM × scale
	BearingRad      float64 // from the optical axis, left positive; known even when not ranged
	YawRad          float64
}

// Measure classifies and ranges the markers of one frame. scale multiplies
// camera distances (fleet/map's scale; pass 1 before calibration). It never
// fails: a marker it cannot range comes back with Ranged false and a reason.
func Measure(cfg Config, in Intrinsics, markers []aruco.Marker, scale float64) []Sighting {
	if !(scale > 0) || math.IsInf(scale, 0) {
		scale = 1
	}
	out := make([]Sighting, 0, len(markers))
	for _, m := range markers {
		s := Sighting{ID: m.ID, Kind: cfg.Kind(m.ID), Corners: m.Corners}
		side := cfg.SideM(m.ID)
		ranged := side > 0
		if !ranged {
			// Bearing depends only on ratios of image lengths, so any side
			// length gives it.
			side = 1
			s.Reject = "id in neither the arena nor the face range"
		}
		r, err := Locate(m.Corners, in, side)
		if err != nil {
			s.Ranged, s.Reject = false, err.Error()
			out = append(out, s)
			continue
		}
		if ranged && r.EdgePx < cfg.MinSidePx {
			ranged = false
			s.Reject = fmt.Sprintf("ranging edge %.1f px is under min_side_px %.1f", r.EdgePx, cfg.MinSidePx)
		}
		s.BearingRad, s.YawRad = r.BearingRad, r.YawRad
		if ranged {
			s.Ranged = true
			s.CameraDistanceM = r.DistanceM
			s.DistanceM = r.DistanceM * scale
		}
		out = append(out, s)
	}
	return out
}

// Detections converts the ranged arena and face sightings to the robot's
// hardware seam. hw.Detection.DistanceM is the camera distance, before the
// map's scale, as package hw specifies.
func Detections(ss []Sighting, at time.Time) []hw.Detection {
	out := make([]hw.Detection, 0, len(ss))
	for _, s := range ss {
		if !s.Ranged || s.Kind == KindUnknown {
			continue
		}
		out = append(out, hw.Detection{
			MarkerID:   s.ID,
			DistanceM:  s.CameraDistanceM,
			BearingRad: s.BearingRad,
			At:         at,
			Corners:    s.Corners[:],
		})
	}
	return out
}

// Record is one JSON line of `robot detect`: a marker as a person checking a
// camera wants to see it. distance_m is null when the marker could not be
// ranged (then note says why).
type Record struct {
	Frame      int           `json:"frame"`
	ID         int           `json:"id"`
	Kind       string        `json:"kind"`
	DistanceM  *float64      `json:"distance_m"`
	BearingRad float64       `json:"bearing_rad"`
	BearingDeg float64       `json:"bearing_deg"`
	YawDeg     float64       `json:"yaw_deg"`
	Corners    [4][2]float64 `json:"corners"`
	Note       string        `json:"note,omitempty"`
}

// NewRecord rounds a sighting for display: millimetres, 1e-4 rad, 0.1°,
// 0.01 px.
func NewRecord(frame int, s Sighting) Record {
	r := Record{
		Frame:      frame,
		ID:         s.ID,
		Kind:       s.Kind,
		BearingRad: round(s.BearingRad, 1e4),
		BearingDeg: round(s.BearingRad*180/math.Pi, 10),
		YawDeg:     round(s.YawRad*180/math.Pi, 10),
		Note:       s.Reject,
	}
	if s.Ranged {
		d := round(s.DistanceM, 1e3)
		r.DistanceM = &d
	}
	for k := range s.Corners {
		r.Corners[k] = [2]float64{round(s.Corners[k][0], 100), round(s.Corners[k][1], 100)}
	}
	return r
}

// WriteRecords writes one JSON line per sighting.
func WriteRecords(w io.Writer, frame int, ss []Sighting) error {
	enc := json.NewEncoder(w)
	for _, s := range ss {
		if err := enc.Encode(NewRecord(frame, s)); err != nil {
			return fmt.Errorf("write detection: %w", err)
		}
	}
	return nil
}

func round(v, per float64) float64 { return math.Round(v*per) / per }
