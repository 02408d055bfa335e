package vision

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Board is a chessboard calibration target: Cols×Rows inner corners (where
// four squares meet; a board of 10×7 squares has 9×6) between squares of
// SquareM metres. The square size sets only the views' distances, not the
// intrinsics.
type Board struct {
	Cols, Rows int
	SquareM    float64
}

// ParseBoard reads "COLSxROWS" (inner corners, e.g. 9x6).
func ParseBoard(s string) (cols, rows int, err error) {
	a, b, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	if ok {
		cols, err = strconv.Atoi(a)
		if err == nil {
			rows, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || cols < 3 || rows < 3 || cols*rows > 400 {
		return 0, 0, fmt.Errorf("board %q: want inner corners COLSxROWS, each at least 3, e.g. 9x6", s)
	}
	return cols, rows, nil
}

// Calibration is what cv::calibrateCamera made of views of a board.
type Calibration struct {
	Intrinsics    Intrinsics // at Width×Height, distortion included
	Width, Height int
	// RMSPx is the root mean square reprojection error over every corner
	// of every view, in pixels: under about 0.5 px is a good calibration.
	RMSPx float64
	// ViewRMSPx is the same per view, and ViewDistM the board's distance
	// in each view (from the square size).
	ViewRMSPx, ViewDistM []float64
	// FixedK3 is set when the five-coefficient fit folded back within the
	// frame and k3 was held at 0.
	FixedK3 bool
	// Dropped are the views (indices into those given) left out of the
	// final fit for fitting far worse than the others.
	Dropped []int
}

// FieldOfView is the horizontal and vertical angle the calibrated camera
// sees, edge to edge through the principal point, in radians.
func (c Calibration) FieldOfView() (h, v float64) {
	m := c.Intrinsics.Lens()
	x0, _, _ := m.Unproject(-0.5, m.CY)
	x1, _, _ := m.Unproject(float64(c.Width)-0.5, m.CY)
	_, y0, _ := m.Unproject(m.CX, -0.5)
	_, y1, _ := m.Unproject(m.CX, float64(c.Height)-0.5)
	return math.Atan(x1) - math.Atan(x0), math.Atan(y1) - math.Atan(y0)
}

// At scales the calibration's pixels to a width×height image of the same
// field of view (what the config's camera.width and height say the robot
// captures). It refuses another aspect ratio, which would be a crop.
func (c Calibration) At(width, height int) (Intrinsics, error) {
	in := c.Intrinsics
	if width == c.Width && height == c.Height {
		return in, nil
	}
	if width <= 0 || height <= 0 || width*c.Height != height*c.Width {
		return in, fmt.Errorf("calibrated at %d×%d, config captures %d×%d: not the same aspect ratio, so not the same field of view; calibrate at %d×%d",
			c.Width, c.Height, width, height, width, height)
	}
	return in.scaled(float64(width)/float64(c.Width), float64(height)/float64(c.Height)), nil
}

// roundTrip is in as it reads back from intrinsicsFlow.
func roundTrip(in Intrinsics) Intrinsics {
	var out Intrinsics
	if err := yaml.Unmarshal([]byte(intrinsicsFlow(in)), &out); err != nil {
		panic(err) // intrinsicsFlow writes numbers only
	}
	return out
}

// intrinsicsFlow is in as one YAML flow mapping, rounded: 0.01 px and six
// significant digits of distortion.
func intrinsicsFlow(in Intrinsics) string {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	f := func(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }
	return fmt.Sprintf("{fx: %s, fy: %s, cx: %s, cy: %s, k1: %s, k2: %s, p1: %s, p2: %s, k3: %s}",
		f(in.FX), f(in.FY), f(in.CX), f(in.CY), g(in.K1), g(in.K2), g(in.P1), g(in.P2), g(in.K3))
}

// SetIntrinsics writes in into a YAML config as camera.intrinsics, under
// vision: in a robot config (one with a vision or id key), at the top in a
// vision config, with note as its line comment. Everything else in the
// file is kept byte for byte: the intrinsics line is replaced or inserted
// where yaml.v3's nodes say the camera block is. (A camera written as a
// flow mapping, `camera: {...}`, is the exception: it becomes a block
// mapping and the document is re-encoded, keeping its comments but not
// their alignment.)
func SetIntrinsics(doc []byte, in Intrinsics, note string) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	value := intrinsicsFlow(in)
	if note != "" {
		value += "  # " + strings.ReplaceAll(note, "\n", " ")
	}
	lines := strings.SplitAfter(string(doc), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		lines[n-1] += "\n"
	}
	var top *yaml.Node
	switch {
	case len(root.Content) == 0:
		// An empty file: a vision config of defaults.
		return []byte("camera:\n  intrinsics: " + value + "\n"), nil
	case root.Content[0].Kind != yaml.MappingNode:
		return nil, errors.New("config: the document is not a mapping")
	default:
		top = root.Content[0]
	}
	// path is the keys down to the camera mapping.
	path := []string{"camera"}
	if lookup(top, "vision") != nil || lookup(top, "id") != nil {
		path = []string{"vision", "camera"}
	}
	parent, indent := top, top.Column-1
	step := indentStep(top)
	for depth, key := range path {
		k, v := lookupPair(parent, key)
		if k == nil || v.Kind != yaml.MappingNode {
			// Missing (or empty): add the rest of the path after the
			// parent's last entry (or after this key, when it is empty).
			var b strings.Builder
			ind := indent
			rest := path[depth:]
			at := endLine(parent)
			if k != nil {
				if v.Kind != yaml.ScalarNode || v.Tag != "!!null" {
					return nil, fmt.Errorf("config: %s is not a mapping", strings.Join(path[:depth+1], "."))
				}
				rest, ind, at = rest[1:], ind+step, k.Line
			}
			for _, r := range rest {
				fmt.Fprintf(&b, "%s%s:\n", strings.Repeat(" ", ind), r)
				ind += step
			}
			fmt.Fprintf(&b, "%sintrinsics: %s\n", strings.Repeat(" ", ind), value)
			return splice(lines, at, at, b.String()), nil
		}
		if v.Style&yaml.FlowStyle != 0 {
			return reencode(&root, v, in, note)
		}
		parent, indent = v, v.Column-1
	}
	k, v := lookupPair(parent, "intrinsics")
	line := strings.Repeat(" ", indent) + "intrinsics: " + value + "\n"
	if k == nil {
		at := endLine(parent)
		return splice(lines, at, at, line), nil
	}
	if strings.TrimSpace(lines[k.Line-1][:k.Column-1]) != "" {
		return reencode(&root, parent, in, note)
	}
	return splice(lines, k.Line-1, endLine(v), line), nil
}

// splice replaces lines [from, to) (0-based) with text.
func splice(lines []string, from, to int, text string) []byte {
	var b bytes.Buffer
	for _, l := range lines[:from] {
		b.WriteString(l)
	}
	b.WriteString(text)
	for _, l := range lines[to:] {
		b.WriteString(l)
	}
	return b.Bytes()
}

// endLine is the 1-based line of n's last descendant: the last line its
// content takes (a flow mapping's closing brace shares its last value's
// line in the files we write and read).
func endLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		last = max(last, endLine(c))
	}
	return last
}

// indentStep is the document's indentation: the first nested block
// mapping's offset from its parent, else 2.
func indentStep(m *yaml.Node) int {
	for i := 1; i < len(m.Content); i += 2 {
		if v := m.Content[i]; v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && v.Column > m.Column {
			return v.Column - m.Column
		}
	}
	return 2
}

// reencode sets intrinsics in the camera mapping cam by editing nodes and
// encodes the whole document again.
func reencode(root, cam *yaml.Node, in Intrinsics, note string) ([]byte, error) {
	var v yaml.Node
	if err := yaml.Unmarshal([]byte(intrinsicsFlow(in)), &v); err != nil {
		return nil, err
	}
	val := v.Content[0]
	val.Style = yaml.FlowStyle
	val.LineComment = note
	// A flow camera mapping becomes a block one: a commented flow value
	// inside a flow mapping encodes badly.
	cam.Style &^= yaml.FlowStyle
	if _, old := lookupPair(cam, "intrinsics"); old != nil {
		*old = *val
	} else {
		cam.Content = append(cam.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "intrinsics"}, val)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

// calibrateOptions are the flags of `robot calibrate`.
type calibrateOptions struct {
	images   string
	camera   bool
	views    int
	interval time.Duration
	save     string
	board    Board
	config   string
	dryRun   bool
	maxRMS   float64
	device   string
	pipeline string
	cfg      Config
}

const calibrateUsage = `usage:
  robot calibrate --images DIR [--board 9x6] [--square-m 0.025] [--config FILE] [--dry-run]
  robot calibrate --camera [--views 15] [--interval 1s] [--save DIR] [--device DEV | --pipeline GST] [--board 9x6] [--config FILE] [--dry-run]

Finds a chessboard (COLSxROWS inner corners, white margin round it) in each
image of DIR, or live in the camera's frames (a view is kept when the board
is found and has moved since the last one; hold it at many angles and
distances, and into the frame's corners), then runs OpenCV's calibrateCamera:
fx, fy, cx, cy and the distortion k1, k2, p1, p2, k3. Prints them with the
RMS reprojection error, and writes them into FILE's vision.camera.intrinsics
(a robot config) or camera.intrinsics (a vision config), leaving the rest of
the file as it was; --dry-run only prints. A calibration whose RMS error
exceeds --max-rms is not written. A view that fits far worse than the others
is dropped. OpenCV's board finder can take seconds over a frame where the
board's white margin barely stands out: light the board evenly, against a
darker background.
`

func parseCalibrateArgs(args []string, stderr io.Writer) (calibrateOptions, error) {
	o := calibrateOptions{}
	fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, calibrateUsage); fs.PrintDefaults() }
	board := fs.String("board", "9x6", "inner corners of the chessboard, COLSxROWS")
	fs.Float64Var(&o.board.SquareM, "square-m", 0.025, "side of the board's squares in metres (sets the views' distances only)")
	fs.StringVar(&o.images, "images", "", "calibrate from the images (PNG, JPEG, BMP) in this folder")
	fs.BoolVar(&o.camera, "camera", false, "calibrate from the camera, live")
	fs.IntVar(&o.views, "views", 15, "with --camera, views to collect")
	fs.DurationVar(&o.interval, "interval", time.Second, "with --camera, least time between two kept views")
	fs.StringVar(&o.save, "save", "", "with --camera, save the kept views as PNG files in this folder")
	fs.StringVar(&o.config, "config", "", "robot or vision config (YAML): its camera, and where the result is written")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the result; write nothing")
	fs.Float64Var(&o.maxRMS, "max-rms", 1, "refuse to write a calibration whose RMS reprojection error exceeds this many pixels")
	fs.StringVar(&o.device, "device", "", "V4L2 device index or path (overrides the config)")
	fs.StringVar(&o.pipeline, "pipeline", "", "GStreamer pipeline ending in appsink (overrides the config)")
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("calibrate: %w", err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("calibrate: unexpected arguments %q", strings.Join(fs.Args(), " "))
	}
	if (o.images == "") == !o.camera {
		return o, errors.New("calibrate: give exactly one of --images DIR or --camera")
	}
	var err error
	if o.board.Cols, o.board.Rows, err = ParseBoard(*board); err != nil {
		return o, fmt.Errorf("calibrate: %w", err)
	}
	if !(o.board.SquareM > 0) || math.IsInf(o.board.SquareM, 0) {
		return o, fmt.Errorf("calibrate: --square-m %v must be a positive length", o.board.SquareM)
	}
	if o.views < minViews {
		return o, fmt.Errorf("calibrate: --views %d: at least %d are needed", o.views, minViews)
	}
	if o.interval < 0 {
		return o, fmt.Errorf("calibrate: --interval %v must not be negative", o.interval)
	}
	if !(o.maxRMS > 0) {
		return o, fmt.Errorf("calibrate: --max-rms %v must be positive", o.maxRMS)
	}
	if o.cfg, err = LoadConfig(o.config); err != nil {
		return o, fmt.Errorf("calibrate: %w", err)
	}
	if o.device != "" {
		o.cfg.Camera.Device, o.cfg.Camera.Pipeline = o.device, ""
	}
	if o.pipeline != "" {
		o.cfg.Camera.Pipeline = o.pipeline
	}
	return o, nil
}

// minViews is the fewest views calibrate accepts: each gives 6 constraints
// (less its own pose) for 9 intrinsics; fewer than this rarely pins the
// distortion down.
const minViews = 5

// report prints a calibration for a person, and the YAML line.
func report(w io.Writer, c Calibration, names []string) {
	in := c.Intrinsics
	h, v := c.FieldOfView()
	fmt.Fprintf(w, "calibrated from %d views at %d×%d: RMS reprojection error %.3f px\n", len(c.ViewRMSPx), c.Width, c.Height, c.RMSPx)
	fmt.Fprintf(w, "fx %.2f  fy %.2f  cx %.2f  cy %.2f  (field of view %.1f° × %.1f°)\n", in.FX, in.FY, in.CX, in.CY, h*180/math.Pi, v*180/math.Pi)
	fmt.Fprintf(w, "k1 %.5g  k2 %.5g  p1 %.5g  p2 %.5g  k3 %.5g\n", in.K1, in.K2, in.P1, in.P2, in.K3)
	if c.FixedK3 {
		fmt.Fprintln(w, "k3 held at 0: with it free, the fit folded back in the frame's corners (views into the corners would free it)")
	}
	name := func(i int) string {
		if i < len(names) {
			return names[i]
		}
		return fmt.Sprintf("view %d", i+1)
	}
	var kept []int
	for i := range names {
		if !slices.Contains(c.Dropped, i) {
			kept = append(kept, i)
		}
	}
	for k, e := range c.ViewRMSPx {
		i := k
		if k < len(kept) {
			i = kept[k]
		}
		fmt.Fprintf(w, "  %-24s RMS %.3f px, board at %.2f m\n", name(i), e, c.ViewDistM[k])
	}
	for _, i := range c.Dropped {
		fmt.Fprintf(w, "  %-24s dropped: it fitted far worse than the others (blurred, or the board badly found?)\n", name(i))
	}
}
