package vision

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultConfigIsValid(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	in, err := cfg.Intrinsics()
	if err != nil {
		t.Fatal(err)
	}
	if in != PiCamV2At640x480 {
		t.Fatalf("default intrinsics %+v, want Pi Camera v2 %+v", in, PiCamV2At640x480)
	}
}

// TestNominalIntrinsics recomputes the documented defaults from the sensor
// data, so that the comment and the numbers cannot drift apart.
func TestNominalIntrinsics(t *testing.T) {
	tests := []struct {
		name           string
		got            Intrinsics
		focalMM, pixUM float64
		binnedW        float64 // width of the binned (and cropped) sensor area read for 640×480
		binnedH        float64
	}{
		{"picam-v2", PiCamV2At640x480, 3.04, 1.12, 1640, 1232},
		{"picam-v3", PiCamV3At640x480, 4.74, 1.4, 1728, 1296},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fBinned := tc.focalMM / (tc.pixUM / 1000) / 2
			fx, fy := fBinned*640/tc.binnedW, fBinned*480/tc.binnedH
			if math.Abs(fx-tc.got.FX) > 0.1 || math.Abs(fy-tc.got.FY) > 0.1 {
				t.Fatalf("fx, fy = %.1f, %.1f; computed %.1f, %.1f", tc.got.FX, tc.got.FY, fx, fy)
			}
			if tc.got.CX != 320 || tc.got.CY != 240 {
				t.Fatalf("principal point %v, %v; want the centre", tc.got.CX, tc.got.CY)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "empty keeps defaults", yaml: "", check: func(t *testing.T, c Config) {
			if c.Dictionary != "DICT_4X4_250" || c.Markers.Face.First != 100 || c.Markers.Arena.Last != 49 {
				t.Fatalf("defaults lost: %+v", c)
			}
		}},
		{name: "picam-v3 at 1280x960 scales", yaml: "camera: {model: picam-v3, width: 1280, height: 960}", check: func(t *testing.T, c Config) {
			in, err := c.Intrinsics()
			if err != nil {
				t.Fatal(err)
			}
			if in.FX != 2*PiCamV3At640x480.FX || in.CX != 640 || in.CY != 480 {
				t.Fatalf("intrinsics %+v", in)
			}
		}},
		{name: "explicit intrinsics win", yaml: "camera:\n  model: picam-v3\n  intrinsics: {fx: 500, fy: 501, cx: 319.5, cy: 241}\n", check: func(t *testing.T, c Config) {
			in, _ := c.Intrinsics()
			if in != (Intrinsics{FX: 500, FY: 501, CX: 319.5, CY: 241}) {
				t.Fatalf("intrinsics %+v", in)
			}
			at, _ := c.IntrinsicsAt(320, 240)
			if at != (Intrinsics{FX: 250, FY: 250.5, CX: 159.75, CY: 120.5}) {
				t.Fatalf("intrinsics at 320×240: %+v", at)
			}
		}},
		{name: "distortion in the intrinsics block", yaml: "camera:\n  intrinsics: {fx: 560, fy: 557, cx: 326, cy: 236, k1: -0.38, k2: 0.16, p1: 0.002, p2: -0.001, k3: -0.03}\n", check: func(t *testing.T, c Config) {
			want := Intrinsics{FX: 560, FY: 557, CX: 326, CY: 236, K1: -0.38, K2: 0.16, P1: 0.002, P2: -0.001, K3: -0.03}
			if in, _ := c.Intrinsics(); in != want {
				t.Fatalf("intrinsics %+v", in)
			}
			// Scaling the image scales the pixels, not the coefficients.
			at, _ := c.IntrinsicsAt(1280, 960)
			if at.FX != 1120 || at.CY != 472 || at.K1 != want.K1 || at.K3 != want.K3 || at.P1 != want.P1 {
				t.Fatalf("intrinsics at 1280×960: %+v", at)
			}
		}},
		{name: "ranges and dictionary", yaml: "dictionary: DICT_6X6_250\nmarkers:\n  arena: {first: 10, last: 20, side_m: 0.2}\n  face: {first: 200, last: 219, side_m: 0.05}\n", check: func(t *testing.T, c Config) {
			for id, want := range map[int]string{9: KindUnknown, 10: KindArena, 20: KindArena, 21: KindUnknown, 200: KindFace, 219: KindFace, 220: KindUnknown} {
				if got := c.Kind(id); got != want {
					t.Errorf("Kind(%d) = %s, want %s", id, got, want)
				}
			}
			if c.SideM(15) != 0.2 || c.SideM(210) != 0.05 || c.SideM(50) != 0 {
				t.Errorf("SideM: %v %v %v", c.SideM(15), c.SideM(210), c.SideM(50))
			}
		}},
		{name: "typo in a key", yaml: "camera: {widht: 640}", wantErr: "widht"},
		{name: "not yaml", yaml: "camera: [", wantErr: "parse"},
		{name: "unknown dictionary", yaml: "dictionary: DICT_9X9_1", wantErr: "dictionary"},
		{name: "overlapping ranges", yaml: "markers: {face: {first: 40, last: 60, side_m: 0.05}}", wantErr: "overlap"},
		{name: "reversed range", yaml: "markers: {arena: {first: 30, last: 10, side_m: 0.1}}", wantErr: "markers.arena"},
		{name: "range beyond dictionary", yaml: "dictionary: DICT_4X4_50\n", wantErr: "markers.face"},
		{name: "zero side", yaml: "markers: {arena: {first: 0, last: 49, side_m: 0}}", wantErr: "side_m"},
		{name: "custom without intrinsics", yaml: "camera: {model: custom}", wantErr: "custom"},
		{name: "unknown model", yaml: "camera: {model: webcam}", wantErr: "camera.model"},
		{name: "negative fx", yaml: "camera: {intrinsics: {fx: -1, fy: 500, cx: 320, cy: 240}}", wantErr: "fx"},
		{name: "zero width", yaml: "camera: {width: 0}", wantErr: "width"},
		{name: "NaN distortion", yaml: "camera: {intrinsics: {fx: 500, fy: 500, cx: 320, cy: 240, k2: .nan}}", wantErr: "k2"},
		{name: "distortion that folds in the frame", yaml: "camera: {intrinsics: {fx: 400, fy: 400, cx: 320, cy: 240, k1: -0.6}}", wantErr: "folds"},
		{name: "distortion outside the intrinsics block", yaml: "camera: {k1: -0.2}", wantErr: "k1"},
		{name: "bad refinement", yaml: "corner_refine: sharp", wantErr: "corner_refine"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tc.yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "vision.yaml")
	if err := os.WriteFile(good, []byte("camera: {model: picam-v3}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(good)
	if err != nil || c.Camera.Model != ModelPiCamV3 {
		t.Fatalf("LoadConfig = %+v, %v", c.Camera, err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("missing file: no error")
	}
	if c, err := LoadConfig(""); err != nil || c.Dictionary != "DICT_4X4_250" {
		t.Fatalf("LoadConfig(\"\") = %+v, %v", c, err)
	}
}

func TestLibcameraPipeline(t *testing.T) {
	p := LibcameraPipeline(640, 480, 30)
	for _, want := range []string{"libcamerasrc", "width=640", "height=480", "framerate=30/1", "format=BGR", "appsink"} {
		if !strings.Contains(p, want) {
			t.Errorf("pipeline %q lacks %q", p, want)
		}
	}
}

// TestExampleConfig keeps the documented example loadable.
func TestExampleConfig(t *testing.T) {
	c, err := LoadConfig("vision.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Camera.Pipeline, "libcamerasrc") || c.Camera.Pipeline != LibcameraPipeline(640, 480, 30) {
		t.Fatalf("example pipeline %q differs from LibcameraPipeline", c.Camera.Pipeline)
	}
	def := DefaultConfig()
	c.Camera.Pipeline = ""
	if c.Markers != def.Markers || c.Dictionary != def.Dictionary || c.MinSidePx != def.MinSidePx || c.Camera != def.Camera {
		t.Fatalf("example config %+v strays from the defaults %+v", c, def)
	}
}
