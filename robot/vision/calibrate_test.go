package vision

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseBoard(t *testing.T) {
	for _, tc := range []struct {
		in         string
		cols, rows int
		ok         bool
	}{
		{"9x6", 9, 6, true}, {" 7X5 ", 7, 5, true}, {"9x2", 0, 0, false}, {"9", 0, 0, false}, {"axb", 0, 0, false}, {"30x30", 0, 0, false},
	} {
		c, r, err := ParseBoard(tc.in)
		if (err == nil) != tc.ok || c != tc.cols || r != tc.rows {
			t.Errorf("ParseBoard(%q) = %d, %d, %v", tc.in, c, r, err)
		}
	}
}

var calibrated = Intrinsics{FX: 561.234, FY: 557.891, CX: 325.5, CY: 236.25, K1: -0.379912, K2: 0.161234, P1: 0.00201, P2: -0.000998, K3: -0.0297}

// TestSetIntrinsics writes intrinsics into configs of every shape: the
// result must load with them, and every other line must stay as it was.
func TestSetIntrinsics(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "deploy", "robot.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	visionExample, err := os.ReadFile("vision.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		doc  string
		// added and removed lines, compared as sets of trimmed lines
		removed []string
		added   int
	}{
		{name: "robot example", doc: string(example), added: 1},
		{name: "vision example", doc: string(visionExample), added: 1},
		{name: "empty", doc: "", added: 2},
		{name: "replace a flow mapping", doc: "id: r1\nvision:\n  camera:\n    width: 640\n    intrinsics: {fx: 500, fy: 500, cx: 320, cy: 240}   # old\n    height: 480\n",
			removed: []string{"intrinsics: {fx: 500, fy: 500, cx: 320, cy: 240}   # old"}, added: 1},
		{name: "replace a block mapping", doc: "camera:\n  intrinsics:\n    fx: 500\n    fy: 500\n    cx: 320\n    cy: 240\n  fps: 30\ndictionary: DICT_4X4_250\n",
			removed: []string{"intrinsics:", "fx: 500", "fy: 500", "cx: 320", "cy: 240"}, added: 1},
		{name: "robot config without vision", doc: "id: r1\nbroker: tcp://laptop:1883\n", added: 3},
		{name: "robot config, vision without camera", doc: "id: r1\nvision:\n    dictionary: DICT_4X4_250\nface_base: 100\n", added: 2},
		{name: "empty vision block", doc: "id: r1\nvision:\nface_base: 100\n", added: 2},
		{name: "four-space indent", doc: "vision:\n    camera:\n        width: 640\nid: r1\n", added: 1},
		{name: "no final newline", doc: "camera:\n  width: 640", added: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := SetIntrinsics([]byte(tc.doc), calibrated, "robot calibrate: test")
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := ParseConfig(out)
			if err != nil {
				t.Fatalf("%v in:\n%s", err, out)
			}
			if got, _ := cfg.Intrinsics(); got != roundTrip(calibrated) {
				t.Fatalf("reads back %+v, want %+v, from:\n%s", got, roundTrip(calibrated), out)
			}
			if !bytes.Contains(out, []byte("# robot calibrate: test")) {
				t.Errorf("the note is missing:\n%s", out)
			}
			before, after := lineSet(tc.doc), lineSet(string(out))
			var removed []string
			for l, n := range before {
				if after[l] < n {
					removed = append(removed, l)
				}
			}
			added := 0
			for l, n := range after {
				added += max(0, n-before[l])
			}
			if len(removed) != len(tc.removed) || added != tc.added {
				t.Errorf("removed %q (want %q), added %d lines (want %d):\n%s", removed, tc.removed, added, tc.added, out)
			}
		})
	}
	// A flow-style camera cannot be spliced: the document is re-encoded,
	// comments kept.
	out, err := SetIntrinsics([]byte("camera: {width: 640, height: 480} # mine\ndictionary: DICT_4X4_250\n"), calibrated, "note")
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := ParseConfig(out); err != nil || cfg.Camera.Width != 640 || !strings.Contains(string(out), "# mine") {
		t.Fatalf("re-encoded flow camera: %v\n%s", err, out)
	}
	for _, bad := range []string{"- a\n- b\n", "camera: [1, 2]\n", "vision: 3\nid: r1\n"} {
		if out, err := SetIntrinsics([]byte(bad), calibrated, ""); err == nil {
			t.Errorf("%q: no error, wrote:\n%s", bad, out)
		}
	}
}

func lineSet(doc string) map[string]int {
	m := map[string]int{}
	for _, l := range strings.Split(doc, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			m[l]++
		}
	}
	return m
}

// TestParseRobotConfig reads the vision block of the example robot config,
// as `robot detect --config /etc/collaborate/robot.yaml` does.
func TestParseRobotConfig(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join("..", "..", "deploy", "robot.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Camera.Pipeline == "" || cfg.Markers.Face.First != 100 || cfg.MinSidePx != 16 {
		t.Fatalf("vision block not read: %+v", cfg)
	}
	if _, err := ParseConfig([]byte("id: r1\nvision:\n  camera: {widht: 640}\n")); err == nil || !strings.Contains(err.Error(), "widht") {
		t.Fatalf("a typo in a robot config's vision block: %v", err)
	}
}

func TestCalibrationAt(t *testing.T) {
	c := Calibration{Intrinsics: calibrated, Width: 640, Height: 480}
	in, err := c.At(1280, 960)
	if err != nil || in.FX != 2*calibrated.FX || in.CY != 2*calibrated.CY || in.K1 != calibrated.K1 {
		t.Fatalf("At(1280, 960) = %+v, %v", in, err)
	}
	if _, err := c.At(1280, 720); err == nil {
		t.Fatal("a 16:9 mode accepted for a 4:3 calibration")
	}
}

func TestParseCalibrateArgs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"images", []string{"--images", "dir"}, ""},
		{"camera with a board", []string{"--camera", "--board", "7x5", "--square-m", "0.03", "--views", "20"}, ""},
		{"neither", nil, "exactly one"},
		{"both", []string{"--camera", "--images", "d"}, "exactly one"},
		{"bad board", []string{"--images", "d", "--board", "9"}, "board"},
		{"too few views", []string{"--camera", "--views", "3"}, "views"},
		{"zero square", []string{"--images", "d", "--square-m", "0"}, "square-m"},
		{"missing config", []string{"--images", "d", "--config", "/nonexistent.yaml"}, "config"},
		{"stray argument", []string{"--images", "d", "x"}, "unexpected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseCalibrateArgs(tc.args, io.Discard)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestHelpExitsCleanly: --help prints the usage and is not an error, for
// both commands, in every build.
func TestHelpExitsCleanly(t *testing.T) {
	for name, cmd := range map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"detect": DetectCommand, "calibrate": CalibrateCommand,
	} {
		for _, h := range []string{"--help", "-h"} {
			var stderr bytes.Buffer
			if err := cmd(context.Background(), []string{h}, io.Discard, &stderr); err != nil {
				t.Errorf("%s %s: %v", name, h, err)
			}
			if !strings.Contains(stderr.String(), "usage:") {
				t.Errorf("%s %s printed no usage: %q", name, h, stderr.String())
			}
		}
	}
}
