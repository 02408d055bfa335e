//go:build opencv

package vision

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"collaborate/robot/hw"
	"collaborate/robot/vision/aruco"
)

// Detector grabs frames from a FrameSource and turns them into sightings:
// cv::aruco detection, then classification and pinhole ranging (Measure).
// It implements hw.Detector. Detect, Sight and Look are serialised; SetScale
// may be called from any goroutine.
type Detector struct {
	cfg   Config
	src   FrameSource
	clock hw.Clock

	mu    sync.Mutex
	det   *aruco.Detector
	frame gocv.Mat
	stats Stats

	scale atomic.Uint64 // math.Float64bits of the distance scale
}

var _ hw.Detector = (*Detector)(nil)

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// NewDetector validates cfg and prepares detection. src may be nil for a
// detector that only looks at given images (Look). clock stamps detections;
// nil means the wall clock.
func NewDetector(cfg Config, src FrameSource, clock hw.Clock) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("vision detector: %w", err)
	}
	dict, _ := aruco.ParseDictionary(cfg.Dictionary) // validated above
	refine, _ := cfg.Refine()
	det, err := aruco.NewDetector(dict, refine)
	if err != nil {
		return nil, fmt.Errorf("vision detector: %w", err)
	}
	if clock == nil {
		clock = realClock{}
	}
	d := &Detector{cfg: cfg, src: src, clock: clock, det: det, frame: gocv.NewMat()}
	d.scale.Store(math.Float64bits(1))
	return d, nil
}

// SetScale sets the factor that Sighting.DistanceM carries (fleet/map's
// scale). hw.Detection keeps the camera distance regardless, as package hw
// specifies, so a pilot that scales itself is not scaled twice.
func (d *Detector) SetScale(s float64) error {
	if !(s > 0) || math.IsInf(s, 0) {
		return fmt.Errorf("vision: distance scale %v: want a positive number", s)
	}
	d.scale.Store(math.Float64bits(s))
	return nil
}

// Scale is the current distance scale.
func (d *Detector) Scale() float64 { return math.Float64frombits(d.scale.Load()) }

// Detect grabs one frame and returns its ranged arena and face markers; it
// implements hw.Detector. Markers of unknown ids are left out.
func (d *Detector) Detect() ([]hw.Detection, error) {
	ss, at, err := d.sight()
	if err != nil {
		return nil, err
	}
	return Detections(ss, at), nil
}

// Sight grabs one frame and returns all its sightings, unknown ids and
// unranged markers included.
func (d *Detector) Sight() ([]Sighting, error) {
	ss, _, err := d.sight()
	return ss, err
}

func (d *Detector) sight() ([]Sighting, time.Time, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.src == nil {
		return nil, time.Time{}, errors.New("vision: detector has no frame source")
	}
	if err := d.src.Read(&d.frame); err != nil {
		d.stats.ReadErrors++
		return nil, time.Time{}, fmt.Errorf("vision: %w", err)
	}
	at := d.clock.Now()
	ss, err := d.look(d.frame)
	return ss, at, err
}

// Look detects, classifies and ranges the markers in img (8-bit BGR or
// grey). The intrinsics are scaled to img's size if it differs from the
// configured resolution.
func (d *Detector) Look(img gocv.Mat) ([]Sighting, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.look(img)
}

func (d *Detector) look(img gocv.Mat) ([]Sighting, error) {
	if d.det == nil {
		return nil, errors.New("vision: detector is closed")
	}
	in, err := d.cfg.IntrinsicsAt(img.Cols(), img.Rows())
	if err != nil {
		d.stats.BadFrames++
		return nil, fmt.Errorf("vision: frame: %w", err)
	}
	markers, err := d.det.Detect(img)
	if err != nil {
		d.stats.BadFrames++
		return nil, fmt.Errorf("vision: %w", err)
	}
	d.stats.Frames++
	ss := Measure(d.cfg, in, markers, d.Scale())
	for _, s := range ss {
		d.stats.Markers++
		if !s.Ranged {
			d.stats.Unranged++
		}
	}
	return ss, nil
}

// Stats returns the counters so far.
func (d *Detector) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// Close frees the OpenCV state. It does not close the frame source, which
// the caller opened. Safe to call twice.
func (d *Detector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.det != nil {
		d.det.Close()
		d.det = nil
		d.frame.Close()
	}
	return nil
}

// liveCamera is a Detector on a Camera it owns.
type liveCamera struct {
	*Detector
	cam *Camera
}

func (l liveCamera) Close() error {
	l.Detector.Close()
	return l.cam.Close()
}

// OpenLive opens the configured camera with a Detector on it.
func OpenLive(cfg Config, clock hw.Clock) (Live, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	cam, err := OpenCamera(cfg.Camera)
	if err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	d, err := NewDetector(cfg, cam, clock)
	if err != nil {
		cam.Close()
		return nil, err
	}
	return liveCamera{Detector: d, cam: cam}, nil
}
