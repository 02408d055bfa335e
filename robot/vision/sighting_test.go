package vision

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"collaborate/robot/vision/aruco"
)

func TestMeasure(t *testing.T) {
	cfg := DefaultConfig()
	in := PiCamV2At640x480
	arena := pose{1.2, rad(10), rad(20), 0}
	face := pose{0.8, rad(-15), 0, 0}
	unknown := pose{1, rad(5), 0, 0}
	far := pose{30, 0, 0, 0} // a 10 cm marker at 30 m is under 2 px
	markers := []aruco.Marker{
		{ID: 7, Corners: project(arena, in, cfg.Markers.Arena.SideM)},
		{ID: 101, Corners: project(face, in, cfg.Markers.Face.SideM)},
		{ID: 60, Corners: project(unknown, in, 0.1)},
		{ID: 8, Corners: project(far, in, cfg.Markers.Arena.SideM)},
		{ID: 9, Corners: [4][2]float64{{math.NaN(), 0}, {1, 0}, {1, 1}, {0, 1}}},
	}
	got := Measure(cfg, in, markers, 1.1)
	if len(got) != len(markers) {
		t.Fatalf("%d sightings for %d markers", len(got), len(markers))
	}
	tests := []struct {
		name       string
		s          Sighting
		kind       string
		ranged     bool
		distM      float64
		bearingRad float64
	}{
		{"arena", got[0], KindArena, true, arena.distM, arena.bearingRad},
		{"face", got[1], KindFace, true, face.distM, face.bearingRad},
		{"unknown id keeps its bearing", got[2], KindUnknown, false, 0, unknown.bearingRad},
		{"too small", got[3], KindArena, false, 0, 0},
		{"bad corners", got[4], KindArena, false, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			if s.Kind != tc.kind || s.Ranged != tc.ranged {
				t.Fatalf("kind %s ranged %v, want %s %v (%s)", s.Kind, s.Ranged, tc.kind, tc.ranged, s.Reject)
			}
			if !s.Ranged && s.Reject == "" {
				t.Fatal("not ranged and no reason")
			}
			if math.Abs(s.BearingRad-tc.bearingRad) > 1e-9 {
				t.Fatalf("bearing %v, want %v", s.BearingRad, tc.bearingRad)
			}
			if tc.ranged {
				if math.Abs(s.CameraDistanceM-tc.distM) > 1e-9 || math.Abs(s.DistanceM-1.1*tc.distM) > 1e-9 {
					t.Fatalf("distance camera %v scaled %v, want %v and ×1.1", s.CameraDistanceM, s.DistanceM, tc.distM)
				}
			} else if s.DistanceM != 0 {
				t.Fatalf("distance %v on an unranged sighting", s.DistanceM)
			}
		})
	}

	at := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	dets := Detections(got, at)
	if len(dets) != 2 || dets[0].MarkerID != 7 || dets[1].MarkerID != 101 {
		t.Fatalf("Detections = %+v, want ids 7 and 101", dets)
	}
	if dets[0].DistanceM != got[0].CameraDistanceM || !dets[0].At.Equal(at) || len(dets[0].Corners) != 4 {
		t.Fatalf("detection %+v: want the unscaled distance, the time and 4 corners", dets[0])
	}
}

func TestMeasureIgnoresBadScale(t *testing.T) {
	m := []aruco.Marker{{ID: 1, Corners: project(pose{1, 0, 0, 0}, PiCamV2At640x480, 0.1)}}
	for _, scale := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		s := Measure(DefaultConfig(), PiCamV2At640x480, m, scale)
		if math.Abs(s[0].DistanceM-1) > 1e-9 {
			t.Errorf("scale %v: distance %v, want the unscaled 1", scale, s[0].DistanceM)
		}
	}
}

func TestWriteRecords(t *testing.T) {
	ss := []Sighting{
		{ID: 7, Kind: KindArena, Ranged: true, DistanceM: 1.23456, CameraDistanceM: 1.1, BearingRad: 0.123456, YawRad: 0.5,
			Corners: [4][2]float64{{1.234, 2}, {3, 4}, {5, 6}, {7, 8}}},
		{ID: 60, Kind: KindUnknown, BearingRad: -0.1, Reject: "id in neither the arena nor the face range"},
	}
	var buf bytes.Buffer
	if err := WriteRecords(&buf, 3, ss); err != nil {
		t.Fatal(err)
	}
	want := `{"frame":3,"id":7,"kind":"arena","distance_m":1.235,"bearing_rad":0.1235,"bearing_deg":7.1,"yaw_deg":28.6,"corners":[[1.23,2],[3,4],[5,6],[7,8]]}
{"frame":3,"id":60,"kind":"unknown","distance_m":null,"bearing_rad":-0.1,"bearing_deg":-5.7,"yaw_deg":0,"corners":[[0,0],[0,0],[0,0],[0,0]],"note":"id in neither the arena nor the face range"}
`
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
	if strings.Count(buf.String(), "\n") != 2 {
		t.Fatal("want one line per sighting")
	}
}
