//go:build opencv

package vision

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"collaborate/internal/testkit"
	"collaborate/robot/hw"
	"collaborate/robot/hw/hwtest"
)

// frames is a FrameSource that plays rendered frames, then fails.
type frames struct {
	mats []gocv.Mat
	next int
}

func (f *frames) Read(dst *gocv.Mat) error {
	if f.next >= len(f.mats) {
		return errors.New("no more frames")
	}
	f.mats[f.next].CopyTo(dst)
	f.next++
	return nil
}

var (
	_ hw.Detector = (*Detector)(nil)
	_ Live        = (*Detector)(nil)
)

func TestOpenLiveFailsCleanly(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Camera.Device = "/nonexistent/video9"
	if l, err := OpenLive(cfg, nil); err == nil {
		l.Close()
		t.Fatal("opened a missing device")
	}
	cfg.Camera.Width = 0
	if _, err := OpenLive(cfg, nil); err == nil {
		t.Fatal("bad config accepted")
	}
}

func TestDetectorImplementsHW(t *testing.T) {
	cfg := DefaultConfig()
	in, _ := cfg.Intrinsics()
	arena := placed{id: 5, p: pose{1.1, rad(12), 0, 0}, sideM: cfg.Markers.Arena.SideM}
	face := placed{id: 150, p: pose{0.6, rad(-10), 0, 0}, sideM: cfg.Markers.Face.SideM}
	stray := placed{id: 70, p: pose{0.9, rad(-2), 0, 0.1}, sideM: 0.1} // in neither range
	one := newScene(in, arena, face, stray).render(t)
	empty := newScene(in).render(t)
	src := &frames{mats: []gocv.Mat{one, empty, one}}
	defer one.Close()
	defer empty.Close()
	at := time.Date(2026, 11, 26, 23, 30, 0, 0, time.UTC)
	d, err := NewDetector(cfg, src, hwtest.NewClock(at))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.SetScale(1.25); err != nil {
		t.Fatal(err)
	}

	// Frame 1: the arena and face markers, not the stray, camera distances.
	dets, err := d.Detect()
	if err != nil {
		t.Fatal(err)
	}
	if len(dets) != 2 {
		t.Fatalf("Detect = %+v, want the arena and the face marker", dets)
	}
	for _, det := range dets {
		want := arena
		if det.MarkerID == face.id {
			want = face
		}
		if det.MarkerID != want.id || !det.At.Equal(at) || len(det.Corners) != 4 {
			t.Errorf("detection %+v", det)
		}
		if e := math.Abs(det.DistanceM-want.p.distM) / want.p.distM; e > maxDistanceErr {
			t.Errorf("id %d: distance %.3f, want the unscaled %.3f", det.MarkerID, det.DistanceM, want.p.distM)
		}
		if e := math.Abs(deg(det.BearingRad - want.p.bearingRad)); e > maxBearingErr {
			t.Errorf("id %d: bearing %.2f°, want %.2f°", det.MarkerID, deg(det.BearingRad), deg(want.p.bearingRad))
		}
	}
	// Frame 2: nothing, as an empty slice.
	if dets, err := d.Detect(); err != nil || len(dets) != 0 {
		t.Fatalf("empty frame: %+v, %v", dets, err)
	}
	// Frame 3 through Sight: all three, the scale applied.
	ss, err := d.Sight()
	if err != nil || len(ss) != 3 {
		t.Fatalf("Sight = %+v, %v; want 3", ss, err)
	}
	for _, s := range ss {
		if s.Kind == KindUnknown {
			if s.Ranged || s.ID != stray.id {
				t.Errorf("stray marker %+v", s)
			}
			continue
		}
		if math.Abs(s.DistanceM-1.25*s.CameraDistanceM) > 1e-9 {
			t.Errorf("id %d: distance %v is not 1.25 × %v", s.ID, s.DistanceM, s.CameraDistanceM)
		}
	}
	// The source runs dry: an error, counted.
	if _, err := d.Detect(); err == nil {
		t.Fatal("no error from a failed read")
	}
	st := d.Stats()
	if st.Frames != 3 || st.ReadErrors != 1 || st.Markers != 6 || st.Unranged != 2 {
		t.Fatalf("stats %+v", st)
	}
	if err := d.SetScale(0); err == nil {
		t.Fatal("scale 0 accepted")
	}
	if d.Scale() != 1.25 {
		t.Fatalf("scale %v after a rejected update", d.Scale())
	}
}

func TestDetectorRejectsBadFrames(t *testing.T) {
	d := newTestDetector(t, DefaultConfig())
	empty := gocv.NewMat()
	defer empty.Close()
	float := gocv.NewMatWithSize(480, 640, gocv.MatTypeCV32F)
	defer float.Close()
	for name, img := range map[string]gocv.Mat{"empty": empty, "float": float} {
		t.Run(name, func(t *testing.T) {
			if _, err := d.Look(img); err == nil {
				t.Fatal("no error")
			}
		})
	}
	if st := d.Stats(); st.BadFrames != 2 || st.Frames != 0 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := NewDetector(Config{}, nil, nil); err == nil {
		t.Fatal("zero config accepted")
	}
}

// records parses robot detect's JSON lines.
func records(t *testing.T, out string) []Record {
	t.Helper()
	var rs []Record
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		rs = append(rs, r)
	}
	return rs
}

func TestDetectCommandImage(t *testing.T) {
	cfg := DefaultConfig()
	in, _ := cfg.Intrinsics()
	dir := t.TempDir()
	img := newScene(in,
		placed{id: 9, p: pose{0.9, rad(10), 0, 0}, sideM: cfg.Markers.Arena.SideM},
		placed{id: 60, p: pose{0.7, rad(-15), 0, 0}, sideM: 0.1},
	).render(t)
	defer img.Close()
	file := filepath.Join(dir, "frame.png")
	if !gocv.IMWrite(file, img) {
		t.Fatal("write test image")
	}
	conf := filepath.Join(dir, "vision.yaml")
	if err := os.WriteFile(conf, []byte("camera: {model: picam-v2}\nmarkers: {arena: {first: 0, last: 49, side_m: 0.1}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	if err := DetectCommand(context.Background(), []string{"--image", file, "--config", conf, "--scale", "2"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	rs := records(t, stdout.String())
	if len(rs) != 2 {
		t.Fatalf("%d records, want 2:\n%s", len(rs), stdout.String())
	}
	for _, r := range rs {
		switch r.ID {
		case 9:
			if r.Kind != KindArena || r.DistanceM == nil || math.Abs(*r.DistanceM-1.8) > 0.09 || math.Abs(r.BearingDeg-10) > 2 {
				t.Errorf("arena record %+v (distance ×2 by --scale)", r)
			}
		case 60:
			if r.Kind != KindUnknown || r.DistanceM != nil || r.Note == "" || math.Abs(r.BearingDeg+15) > 2 {
				t.Errorf("unknown record %+v", r)
			}
		default:
			t.Errorf("unexpected record %+v", r)
		}
	}
	if !strings.Contains(stderr.String(), "1 arena, 0 face, 1 unknown") {
		t.Errorf("stderr %q lacks the summary", stderr.String())
	}

	bad := []struct {
		name string
		args []string
	}{
		{"missing file", []string{"--image", filepath.Join(dir, "nope.png")}},
		{"not an image", []string{"--image", conf}},
		{"wrong dictionary name", []string{"--image", file, "--dict", "DICT_2X2"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := DetectCommand(context.Background(), tc.args, &stdout, &stderr); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// TestDetectCommandCamera runs the live mode through a real GStreamer
// pipeline: a raw file of rendered frames parsed as video, into appsink.
func TestDetectCommandCamera(t *testing.T) {
	cfg := DefaultConfig()
	in, _ := cfg.Intrinsics()
	img := newScene(in, placed{id: 17, p: pose{1.0, rad(-6), 0, 0}, sideM: cfg.Markers.Arena.SideM}).render(t)
	defer img.Close()
	raw, err := img.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "frames.gray")
	if err := os.WriteFile(file, bytes.Repeat(raw, 5), 0o600); err != nil {
		t.Fatal(err)
	}
	pipeline := fmt.Sprintf("filesrc location=%s ! rawvideoparse width=640 height=480 format=gray8 framerate=30/1 ! videoconvert ! video/x-raw,format=BGR ! appsink", file)
	probe, err := OpenCamera(CameraConfig{Pipeline: pipeline})
	if err != nil {
		testkit.Missing(t, fmt.Sprintf("no usable GStreamer pipeline here (%v): apt-get install gstreamer1.0-plugins-base", err))
	}
	probe.Close()

	var stdout, stderr bytes.Buffer
	err = DetectCommand(context.Background(), []string{"--camera", "--pipeline", pipeline, "--frames", "3"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	rs := records(t, stdout.String())
	if len(rs) != 3 {
		t.Fatalf("%d records for 3 frames, want 3:\n%s\n%s", len(rs), stdout.String(), stderr.String())
	}
	for k, r := range rs {
		if r.Frame != k || r.ID != 17 || r.DistanceM == nil || math.Abs(*r.DistanceM-1.0) > 0.05 {
			t.Errorf("record %d: %+v", k, r)
		}
	}
	if !strings.Contains(stderr.String(), "3 frames in") {
		t.Errorf("stderr %q lacks the closing frame count", stderr.String())
	}

	// The pipeline runs dry after 5 frames: the command gives up with an error.
	if err := DetectCommand(context.Background(), []string{"--camera", "--pipeline", pipeline}, &stdout, &stderr); err == nil {
		t.Fatal("an ended pipeline gave no error")
	}
	if err := DetectCommand(context.Background(), []string{"--camera", "--pipeline", "videotestsrc num-buffers=1 ! fakesink"}, &stdout, &stderr); err == nil {
		t.Fatal("a broken pipeline gave no error")
	}
}
