package vision

import (
	"io"
	"strings"
	"testing"
)

func TestParseDetectArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, o detectOptions)
	}{
		{name: "image with defaults", args: []string{"--image", "a.jpg"}, check: func(t *testing.T, o detectOptions) {
			if o.image != "a.jpg" || o.camera || o.scale != 1 || o.cfg.Dictionary != "DICT_4X4_250" {
				t.Fatalf("%+v", o)
			}
		}},
		{name: "dictionary override", args: []string{"--image", "a.jpg", "--dict", "DICT_6X6_250"}, check: func(t *testing.T, o detectOptions) {
			if o.cfg.Dictionary != "DICT_6X6_250" {
				t.Fatalf("dictionary %s", o.cfg.Dictionary)
			}
		}},
		{name: "device replaces pipeline", args: []string{"--camera", "--device", "/dev/video2"}, check: func(t *testing.T, o detectOptions) {
			if o.cfg.Camera.Device != "/dev/video2" || o.cfg.Camera.Pipeline != "" {
				t.Fatalf("%+v", o.cfg.Camera)
			}
		}},
		{name: "resolution scales the intrinsics", args: []string{"--camera", "--width", "1280", "--height", "960", "--frames", "5"}, check: func(t *testing.T, o detectOptions) {
			in, err := o.cfg.Intrinsics()
			if err != nil {
				t.Fatal(err)
			}
			if o.cfg.Camera.Width != 1280 || in.FX != 2*PiCamV2At640x480.FX || in.CX != 640 || o.frames != 5 {
				t.Fatalf("camera %+v intrinsics %+v", o.cfg.Camera, in)
			}
		}},
		{name: "neither mode", args: nil, wantErr: "exactly one"},
		{name: "both modes", args: []string{"--camera", "--image", "a.jpg"}, wantErr: "exactly one"},
		{name: "unknown flag", args: []string{"--camera", "--colour"}, wantErr: "colour"},
		{name: "negative frames", args: []string{"--camera", "--frames", "-1"}, wantErr: "frames"},
		{name: "NaN scale", args: []string{"--camera", "--scale", "NaN"}, wantErr: "scale"},
		{name: "bad dictionary", args: []string{"--camera", "--dict", "nope"}, wantErr: "dictionary"},
		{name: "negative width", args: []string{"--camera", "--width", "-640"}, wantErr: "frame size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseDetectArgs(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, o)
		})
	}
}
