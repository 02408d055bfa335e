package vision

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
)

// ErrNoOpenCV is what vision entry points return in a build without the
// opencv tag.
var ErrNoOpenCV = errors.New("built without OpenCV: rebuild with -tags opencv")

// detectOptions are the flags of `robot detect`.
type detectOptions struct {
	image    string
	camera   bool
	config   string
	dict     string
	device   string
	pipeline string
	width    int
	height   int
	frames   int // stop after this many camera frames; 0 runs until cancelled
	scale    float64
	cfg      Config
}

const detectUsage = `usage:
  robot detect --image FILE [--config FILE] [--dict NAME] [--scale S]
  robot detect --camera [--config FILE] [--device DEV | --pipeline GST] [--width W --height H] [--frames N] [--dict NAME] [--scale S]

Prints one JSON line per marker seen: frame, id, kind (arena, face, unknown),
distance_m (null when it cannot be ranged), bearing_rad and bearing_deg (left
positive, from the optical axis), yaw_deg and the four corners in pixels.
With --camera, frames per second go to stderr once a second.
`

// parseDetectArgs parses and validates the flags and loads the config with
// the flags laid over it.
func parseDetectArgs(args []string, stderr io.Writer) (detectOptions, error) {
	var o detectOptions
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, detectUsage); fs.PrintDefaults() }
	fs.StringVar(&o.image, "image", "", "detect markers in this image file")
	fs.BoolVar(&o.camera, "camera", false, "detect markers live from the camera")
	fs.StringVar(&o.config, "config", "", "vision config (YAML); defaults: Pi Camera v2 at 640×480, DICT_4X4_250")
	fs.StringVar(&o.dict, "dict", "", "ArUco dictionary, e.g. DICT_4X4_250 (overrides the config)")
	fs.StringVar(&o.device, "device", "", "V4L2 device index or path (overrides the config)")
	fs.StringVar(&o.pipeline, "pipeline", "", "GStreamer pipeline ending in appsink (overrides the config)")
	fs.IntVar(&o.width, "width", 0, "capture width in pixels (overrides the config)")
	fs.IntVar(&o.height, "height", 0, "capture height in pixels (overrides the config)")
	fs.IntVar(&o.frames, "frames", 0, "with --camera, stop after this many frames (0: until interrupted)")
	fs.Float64Var(&o.scale, "scale", 1, "multiply distances by this (fleet/map's scale)")
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("detect: %w", err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("detect: unexpected arguments %q", strings.Join(fs.Args(), " "))
	}
	if (o.image == "") == !o.camera {
		return o, errors.New("detect: give exactly one of --image FILE or --camera")
	}
	if o.frames < 0 {
		return o, fmt.Errorf("detect: --frames %d must not be negative", o.frames)
	}
	if !(o.scale > 0) || math.IsInf(o.scale, 0) {
		return o, fmt.Errorf("detect: --scale %v must be a positive number", o.scale)
	}
	cfg, err := LoadConfig(o.config)
	if err != nil {
		return o, fmt.Errorf("detect: %w", err)
	}
	if o.dict != "" {
		cfg.Dictionary = o.dict
	}
	if o.device != "" {
		cfg.Camera.Device, cfg.Camera.Pipeline = o.device, ""
	}
	if o.pipeline != "" {
		cfg.Camera.Pipeline = o.pipeline
	}
	if o.width != 0 || o.height != 0 {
		// Keep the intrinsics for the configured size and scale them.
		in, err := cfg.IntrinsicsAt(nonZero(o.width, cfg.Camera.Width), nonZero(o.height, cfg.Camera.Height))
		if err != nil {
			return o, fmt.Errorf("detect: %w", err)
		}
		cfg.Camera.Width, cfg.Camera.Height = nonZero(o.width, cfg.Camera.Width), nonZero(o.height, cfg.Camera.Height)
		cfg.Camera.Intrinsics = &in
	}
	if err := cfg.Validate(); err != nil {
		return o, fmt.Errorf("detect: %w", err)
	}
	o.cfg = cfg
	return o, nil
}

func nonZero(v, def int) int {
	if v != 0 {
		return v
	}
	return def
}
