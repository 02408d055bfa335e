package vision

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"collaborate/robot/vision/aruco"
	"collaborate/robot/vision/lens"
)

// Camera models with built-in nominal intrinsics.
const (
	ModelPiCamV2 = "picam-v2" // Raspberry Pi Camera Module 2, Sony IMX219
	ModelPiCamV3 = "picam-v3" // Raspberry Pi Camera Module 3, Sony IMX708 (standard lens)
	ModelCustom  = "custom"   // intrinsics must be given
)

// Intrinsics are the camera's parameters for the configured capture
// resolution: focal lengths fx, fy and the principal point cx, cy in
// pixels, and OpenCV's distortion coefficients k1, k2, p1, p2, k3 (as
// cv::calibrateCamera gives them, and `robot calibrate` writes them; all
// zero is a distortion-free pinhole). The coefficients are in normalised
// image coordinates, so they hold at any resolution of the same field of
// view.
type Intrinsics struct {
	FX float64 `yaml:"fx" json:"fx"`
	FY float64 `yaml:"fy" json:"fy"`
	CX float64 `yaml:"cx" json:"cx"`
	CY float64 `yaml:"cy" json:"cy"`
	K1 float64 `yaml:"k1,omitempty" json:"k1,omitempty"`
	K2 float64 `yaml:"k2,omitempty" json:"k2,omitempty"`
	P1 float64 `yaml:"p1,omitempty" json:"p1,omitempty"`
	P2 float64 `yaml:"p2,omitempty" json:"p2,omitempty"`
	K3 float64 `yaml:"k3,omitempty" json:"k3,omitempty"`
}

// Lens is in as package lens's camera model.
func (in Intrinsics) Lens() lens.Model {
	return lens.Model{FX: in.FX, FY: in.FY, CX: in.CX, CY: in.CY, K1: in.K1, K2: in.K2, P1: in.P1, P2: in.P2, K3: in.K3}
}

// Distorted reports whether in has any distortion coefficient.
func (in Intrinsics) Distorted() bool { return in.Lens().Distorted() }

// Nominal intrinsics at 640×480, from the data sheets, without distortion.
// A calibration (`robot calibrate`: OpenCV's calibrateCamera on a
// chessboard) beats these by a few percent, and measures the distortion.
//
// Pi Camera v2 (IMX219): focal length 3.04 mm, pixel 1.12 µm, 3280×2464
// active pixels. Full resolution: f = 3.04 / 0.00112 = 2714.3 px. libcamera
// serves 640×480 from the 2×2-binned 1640×1232 mode (the full field of view)
// scaled by 640/1640 = 0.3902: fx = 2714.3 / 2 × 0.3902 = 529.6 px, and
// 480/1232 = 0.3896 gives fy = 528.8 px. Check: horizontal field of view
// 2·atan(320 / 529.6) = 62.3°, the data sheet says 62.2°.
//
// Pi Camera v3 (IMX708, standard lens): focal length 4.74 mm, pixel 1.4 µm,
// 4608×2592 (16:9). Full resolution: f = 4.74 / 0.0014 = 3385.7 px. 640×480
// is 4:3, so libcamera takes the 2×2-binned 2304×1296 mode, crops it to
// 1728×1296 (4:3, keeping the full height) and scales by 640/1728 = 0.3704:
// fx = fy = 3385.7 / 2 × 0.3704 = 627.0 px. Horizontal field of view at
// 640×480: 2·atan(320 / 627.0) = 54.0° (the full 16:9 width sees 66°).
//
// The principal point is taken at the image centre.
var (
	PiCamV2At640x480 = Intrinsics{FX: 529.6, FY: 528.8, CX: 320, CY: 240}
	PiCamV3At640x480 = Intrinsics{FX: 627.0, FY: 627.0, CX: 320, CY: 240}
)

// CameraConfig says where frames come from and how the camera maps them.
type CameraConfig struct {
	// Device is a V4L2 device index ("0") or path ("/dev/video0"). Ignored
	// when Pipeline is set.
	Device string `yaml:"device"`
	// Pipeline is a GStreamer pipeline ending in appsink; see
	// LibcameraPipeline for Pi cameras on Raspberry Pi OS bookworm.
	Pipeline string `yaml:"pipeline"`
	Width    int    `yaml:"width"`  // pixels
	Height   int    `yaml:"height"` // pixels
	FPS      int    `yaml:"fps"`
	// Model picks nominal intrinsics (picam-v2, picam-v3), scaled from
	// 640×480 to Width×Height, which assumes the same field of view. Set
	// Intrinsics to override (required for custom).
	Model      string      `yaml:"model"`
	Intrinsics *Intrinsics `yaml:"intrinsics"`
}

// IDRange is an inclusive range of marker ids with the physical side length
// of those markers (the black square, in metres).
type IDRange struct {
	First int     `yaml:"first"`
	Last  int     `yaml:"last"`
	SideM float64 `yaml:"side_m"`
}

// Contains reports whether id lies in r.
func (r IDRange) Contains(id int) bool { return id >= r.First && id <= r.Last }

// MarkerConfig tells arena markers from robots' face markers by id.
type MarkerConfig struct {
	Arena IDRange `yaml:"arena"`
	Face  IDRange `yaml:"face"`
}

// Config is the vision configuration, loaded from YAML.
type Config struct {
	Camera CameraConfig `yaml:"camera"`
	// Dictionary is an OpenCV predefined dictionary name, e.g. DICT_4X4_250.
	Dictionary string `yaml:"dictionary"`
	// CornerRefine is none, subpix, contour or apriltag (cv::aruco's
	// cornerRefinementMethod). subpix sharpens corners, hence distances.
	CornerRefine string       `yaml:"corner_refine"`
	Markers      MarkerConfig `yaml:"markers"`
	// MinSidePx leaves a marker unranged when the edges its distance comes
	// from (the vertical ones) are shorter than this, in pixels. Measured on
	// synthetic frames (subpix corners): from 16 px up the distance is
	// within 2%; at 13 px up to 6% off. 16 px is 3.3 m for a 10 cm marker
	// with a Pi Camera v2.
	MinSidePx float64 `yaml:"min_side_px"`
}

// DefaultConfig is a Pi Camera v2 at 640×480 on /dev/video0, DICT_4X4_250,
// arena markers 0–49 of 10 cm and face markers 100–249 of 6 cm.
func DefaultConfig() Config {
	return Config{
		Camera: CameraConfig{
			Device: "0",
			Width:  640,
			Height: 480,
			FPS:    30,
			Model:  ModelPiCamV2,
		},
		Dictionary:   aruco.DefaultDictionary.String(),
		CornerRefine: "subpix",
		Markers: MarkerConfig{
			Arena: IDRange{First: 0, Last: 49, SideM: 0.10},
			Face:  IDRange{First: 100, Last: 249, SideM: 0.06},
		},
		MinSidePx: 16,
	}
}

// LoadConfig reads a YAML file over DefaultConfig: keys left out keep their
// defaults. Unknown keys are an error, so that a typo does not silently fall
// back to a default. An empty path returns the defaults.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("load vision config: %w", err)
	}
	cfg, err = ParseConfig(b)
	if err != nil {
		return cfg, fmt.Errorf("load vision config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes YAML over DefaultConfig and validates the result.
// The YAML is a vision config, or a robot config (one with a vision or an
// id key at the top), whose vision block is read and the rest left to the
// robot: `robot detect --config /etc/collaborate/robot.yaml` reads the
// camera the robot uses.
func ParseConfig(b []byte) (Config, error) {
	cfg := DefaultConfig()
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return cfg, fmt.Errorf("parse: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var err error
	if len(root.Content) > 0 && isRobotConfig(root.Content[0]) {
		f := robotFile{Vision: cfg}
		err = dec.Decode(&f)
		cfg = f.Vision
	} else {
		err = dec.Decode(&cfg)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("parse: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// robotFile is a robot config as the vision package reads it: its vision
// block, strictly; the other keys are the robot's.
type robotFile struct {
	Vision Config         `yaml:"vision"`
	Rest   map[string]any `yaml:",inline"`
}

// lookupPair finds key in mapping m: its key and value nodes, or nils.
func lookupPair(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	_, v := lookupPair(m, key)
	return v
}

// isRobotConfig tells a robot config from a vision config by its top-level
// keys.
func isRobotConfig(top *yaml.Node) bool {
	return lookup(top, "vision") != nil || lookup(top, "id") != nil
}

// Validate checks every field and names the first bad one.
func (c Config) Validate() error {
	if c.Camera.Width <= 0 || c.Camera.Height <= 0 {
		return fmt.Errorf("camera.width and camera.height must be positive, got %d×%d", c.Camera.Width, c.Camera.Height)
	}
	if c.Camera.FPS < 0 {
		return fmt.Errorf("camera.fps must not be negative, got %d", c.Camera.FPS)
	}
	in, err := c.Intrinsics()
	if err != nil {
		return err
	}
	// Markers are ranged anywhere in the frame, so the distortion must be
	// invertible over all of it.
	if err := in.Lens().Check(c.Camera.Width, c.Camera.Height); err != nil {
		return fmt.Errorf("camera.intrinsics: %w at %d×%d", err, c.Camera.Width, c.Camera.Height)
	}
	dict, err := aruco.ParseDictionary(c.Dictionary)
	if err != nil {
		return fmt.Errorf("dictionary: %w", err)
	}
	if _, err := c.Refine(); err != nil {
		return err
	}
	for _, r := range []struct {
		name string
		r    IDRange
	}{{"markers.arena", c.Markers.Arena}, {"markers.face", c.Markers.Face}} {
		if r.r.First < 0 || r.r.Last < r.r.First {
			return fmt.Errorf("%s: ids %d..%d: want 0 <= first <= last", r.name, r.r.First, r.r.Last)
		}
		if r.r.First >= dict.Size() {
			return fmt.Errorf("%s: first id %d is outside %v (ids 0..%d)", r.name, r.r.First, dict, dict.Size()-1)
		}
		if !(r.r.SideM > 0) || math.IsInf(r.r.SideM, 0) {
			return fmt.Errorf("%s.side_m must be a positive length in metres, got %v", r.name, r.r.SideM)
		}
	}
	a, f := c.Markers.Arena, c.Markers.Face
	if a.First <= f.Last && f.First <= a.Last {
		return fmt.Errorf("markers: arena ids %d..%d overlap face ids %d..%d", a.First, a.Last, f.First, f.Last)
	}
	if c.MinSidePx < 0 || math.IsNaN(c.MinSidePx) {
		return fmt.Errorf("min_side_px must not be negative, got %v", c.MinSidePx)
	}
	return nil
}

// IntrinsicsAt gives the intrinsics for frames of width×height pixels,
// scaling the configured ones (for camera.width×height) linearly. That holds
// when the camera delivers the same field of view at both sizes, as Pi
// cameras do across their binned 4:3 modes.
func (c Config) IntrinsicsAt(width, height int) (Intrinsics, error) {
	in, err := c.Intrinsics()
	if err != nil {
		return in, err
	}
	if width <= 0 || height <= 0 {
		return in, fmt.Errorf("frame size %d×%d: want positive", width, height)
	}
	if width == c.Camera.Width && height == c.Camera.Height {
		return in, nil
	}
	return in.scaled(float64(width)/float64(c.Camera.Width), float64(height)/float64(c.Camera.Height)), nil
}

// scaled is in for an image scaled by sx, sy. The distortion coefficients
// stay: they are in normalised coordinates.
func (in Intrinsics) scaled(sx, sy float64) Intrinsics {
	in.FX, in.FY, in.CX, in.CY = in.FX*sx, in.FY*sy, in.CX*sx, in.CY*sy
	return in
}

// Intrinsics resolves the camera's intrinsics at the configured resolution:
// explicit values win, else the model's, scaled from 640×480.
func (c Config) Intrinsics() (Intrinsics, error) {
	if in := c.Camera.Intrinsics; in != nil {
		for _, v := range []struct {
			name string
			v    float64
		}{{"fx", in.FX}, {"fy", in.FY}, {"cx", in.CX}, {"cy", in.CY}} {
			if math.IsNaN(v.v) || math.IsInf(v.v, 0) || v.v < 0 || (v.v == 0 && (v.name == "fx" || v.name == "fy")) {
				return Intrinsics{}, fmt.Errorf("camera.intrinsics.%s = %v: want a positive number of pixels", v.name, v.v)
			}
		}
		for _, v := range []struct {
			name string
			v    float64
		}{{"k1", in.K1}, {"k2", in.K2}, {"p1", in.P1}, {"p2", in.P2}, {"k3", in.K3}} {
			if math.IsNaN(v.v) || math.IsInf(v.v, 0) {
				return Intrinsics{}, fmt.Errorf("camera.intrinsics.%s = %v: want a finite distortion coefficient", v.name, v.v)
			}
		}
		return *in, nil
	}
	var base Intrinsics
	switch strings.ToLower(c.Camera.Model) {
	case ModelPiCamV2, "":
		base = PiCamV2At640x480
	case ModelPiCamV3:
		base = PiCamV3At640x480
	case ModelCustom:
		return Intrinsics{}, errors.New("camera.model custom needs camera.intrinsics (fx, fy, cx, cy)")
	default:
		return Intrinsics{}, fmt.Errorf("camera.model %q: want %s, %s or %s", c.Camera.Model, ModelPiCamV2, ModelPiCamV3, ModelCustom)
	}
	sx, sy := float64(c.Camera.Width)/640, float64(c.Camera.Height)/480
	return Intrinsics{FX: base.FX * sx, FY: base.FY * sy, CX: base.CX * sx, CY: base.CY * sy}, nil
}

// Refine returns the configured corner refinement.
func (c Config) Refine() (aruco.CornerRefine, error) {
	switch strings.ToLower(c.CornerRefine) {
	case "none":
		return aruco.RefineNone, nil
	case "subpix", "":
		return aruco.RefineSubpix, nil
	case "contour":
		return aruco.RefineContour, nil
	case "apriltag":
		return aruco.RefineAprilTag, nil
	}
	return 0, fmt.Errorf("corner_refine %q: want none, subpix, contour or apriltag", c.CornerRefine)
}

// Kinds of marker; arena and face match the topics package's MarkerArena and
// MarkerFace.
const (
	KindArena   = "arena"
	KindFace    = "face"
	KindUnknown = "unknown" // in neither range: reported by robot detect, ignored by the robot
)

// Kind classifies a marker id by the configured ranges.
func (c Config) Kind(id int) string {
	switch {
	case c.Markers.Arena.Contains(id):
		return KindArena
	case c.Markers.Face.Contains(id):
		return KindFace
	}
	return KindUnknown
}

// SideM is the side length of marker id in metres, 0 for an unknown id.
func (c Config) SideM(id int) float64 {
	switch c.Kind(id) {
	case KindArena:
		return c.Markers.Arena.SideM
	case KindFace:
		return c.Markers.Face.SideM
	}
	return 0
}

// LibcameraPipeline is a GStreamer pipeline for a Pi camera on Raspberry Pi
// OS bookworm, where the camera is reached through libcamera rather than
// V4L2 (install gstreamer1.0-libcamera). appsink keeps only the newest frame
// so that detections are never stale.
func LibcameraPipeline(width, height, fps int) string {
	return fmt.Sprintf("libcamerasrc ! video/x-raw,width=%d,height=%d,framerate=%d/1 ! "+
		"videoconvert ! video/x-raw,format=BGR ! appsink drop=true max-buffers=1 sync=false", width, height, fps)
}
