package render

import (
	"errors"
	"fmt"
	"math"

	"collaborate/robot/vision/aruco"
)

// Pose is where the camera is and which way it looks, in the arena frame.
type Pose struct {
	XM, YM   float64
	ThetaRad float64 // heading: the optical axis, counter-clockwise from +x
}

// Scene is the world a frame shows. Zero fields take the defaults their
// comments give, so a scene needs only its markers and robots.
type Scene struct {
	// Dictionary the markers' ids are drawn from.
	Dictionary aruco.Dictionary
	Arena      Arena
	Light      Light
	Markers    []Marker
	Robots     []Robot
	Boards     []Board
	// QuietCells is the white margin printed round every marker, in cells
	// (0: 2; cv::aruco needs at least 1).
	QuietCells int
	// InkAlbedo and PaperAlbedo are the reflectances of a marker's black
	// and white cells, and of a board's squares (0: 0.05 and 0.85).
	InkAlbedo, PaperAlbedo float64
}

// Arena is the circular wall, the floor inside it and the room above.
type Arena struct {
	// RadiusM is the wall's radius; 0 means no wall (open floor to the
	// horizon, e.g. for a calibration board in front of the camera).
	RadiusM     float64
	WallHeightM float64 // 0: 0.3
	WallAlbedo  float64 // 0: 0.5
	FloorAlbedo float64 // 0: 0.3
	// RoomRadiance is what is seen above the wall or the horizon, as a
	// radiance (1 is a white surface in full light; 0: 0.45).
	RoomRadiance float64
}

// Light lights every surface with Ambient, plus Directional times the
// cosine of the angle to a distant light at (AzimuthRad, ElevationRad):
// surfaces turned towards it are brighter, so markers round the wall differ
// in brightness. All zero: ambient 0.65, directional 0.35 from azimuth 0.6
// rad, elevation 0.7 rad.
type Light struct {
	Ambient, Directional     float64
	AzimuthRad, ElevationRad float64
}

// Marker is an upright square ArUco marker: an arena marker on the wall,
// or anything else standing in the scene.
type Marker struct {
	ID        int
	XM, YM    float64 // its centre
	HeightM   float64 // its centre above the floor (0: 0.10)
	NormalRad float64 // the direction it faces (an arena marker: towards the centre)
	SideM     float64 // the black square's side (0: 0.10)
	// Covers are things in front of the marker (tape, a finger, dirt),
	// drawn over it: rectangles in the marker's cells, (0, 0) its black
	// square's top-left corner, x right and y down as the camera sees the
	// marker upright; -1 and N+2 are in the quiet zone.
	Covers []Cover
}

// Cover is a rectangle of uniform albedo over a marker, in cells; X1 and
// Y1 are exclusive.
type Cover struct {
	X0, Y0, X1, Y1 float64
	Albedo         float64
}

// Robot is an opaque upright cylinder standing on the floor with a marker
// on each face. A robot whose disc holds the camera is the camera's own
// and is not drawn.
type Robot struct {
	XM, YM, ThetaRad float64
	RadiusM          float64 // 0: 0.09
	HeightM          float64 // 0: 0.12
	Albedo           float64 // 0: 0.25
	// Faces are the marker ids on the front, left, back and right faces
	// (at 0, +π/2, π, -π/2 from the heading); a negative id is no marker.
	Faces       [4]int
	FaceSideM   float64 // 0: 0.06
	FaceHeightM float64 // the face markers' centres above the floor (0: 0.06)
}

// Board is a chessboard calibration target at any pose: Cols×Rows inner
// corners between squares of SquareM, the top-left square black, inside a
// white margin of one square. Right and Down are its in-plane unit axes in
// the arena frame (orthogonal); it is seen from the side Down × Right
// points to.
type Board struct {
	Cols, Rows          int
	SquareM             float64
	Centre, Right, Down [3]float64
}

// Corner is inner corner (i, j) of b in the arena frame: i along Right
// (0..Cols-1), j along Down (0..Rows-1).
func (b Board) Corner(i, j int) [3]float64 {
	a := (float64(i+1) - float64(b.Cols+1)/2) * b.SquareM
	c := (float64(j+1) - float64(b.Rows+1)/2) * b.SquareM
	var p [3]float64
	for k := range p {
		p[k] = b.Centre[k] + a*b.Right[k] + c*b.Down[k]
	}
	return p
}

func (s Scene) withDefaults() Scene {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&s.Arena.WallHeightM, 0.3)
	def(&s.Arena.WallAlbedo, 0.5)
	def(&s.Arena.FloorAlbedo, 0.3)
	def(&s.Arena.RoomRadiance, 0.45)
	if s.Light == (Light{}) {
		s.Light = Light{Ambient: 0.65, Directional: 0.35, AzimuthRad: 0.6, ElevationRad: 0.7}
	}
	if s.QuietCells == 0 {
		s.QuietCells = 2
	}
	def(&s.InkAlbedo, 0.05)
	def(&s.PaperAlbedo, 0.85)
	return s
}

func (m Marker) withDefaults() Marker {
	if m.HeightM == 0 {
		m.HeightM = 0.10
	}
	if m.SideM == 0 {
		m.SideM = 0.10
	}
	return m
}

func (r Robot) withDefaults() Robot {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&r.RadiusM, 0.09)
	def(&r.HeightM, 0.12)
	def(&r.Albedo, 0.25)
	def(&r.FaceSideM, 0.06)
	def(&r.FaceHeightM, 0.06)
	return r
}

// validate names the first thing of a defaulted scene that cannot be drawn.
func (s Scene) validate() error {
	if s.Dictionary.Bits() == 0 {
		return fmt.Errorf("render: unknown dictionary %d", int(s.Dictionary))
	}
	if s.QuietCells < 0 {
		return fmt.Errorf("render: quiet zone of %d cells", s.QuietCells)
	}
	if !(s.Arena.RadiusM >= 0) || !finite(s.Arena.RadiusM) {
		return fmt.Errorf("render: arena radius %v m", s.Arena.RadiusM)
	}
	for i, m := range s.Markers {
		m = m.withDefaults()
		if _, err := s.Dictionary.Code(m.ID); err != nil {
			return fmt.Errorf("render: marker %d: %w", i, err)
		}
		if !(m.SideM > 0) || !finite(m.XM+m.YM+m.HeightM+m.NormalRad+m.SideM) {
			return fmt.Errorf("render: marker %d (id %d): bad geometry %+v", i, m.ID, m)
		}
	}
	for i, r := range s.Robots {
		r = r.withDefaults()
		if !(r.RadiusM > 0 && r.HeightM > 0 && r.FaceSideM > 0) || !finite(r.XM+r.YM+r.ThetaRad+r.FaceHeightM) {
			return fmt.Errorf("render: robot %d: bad geometry %+v", i, r)
		}
		for _, id := range r.Faces {
			if id < 0 {
				continue
			}
			if _, err := s.Dictionary.Code(id); err != nil {
				return fmt.Errorf("render: robot %d face: %w", i, err)
			}
		}
	}
	for i, b := range s.Boards {
		if b.Cols < 2 || b.Rows < 2 || !(b.SquareM > 0) {
			return fmt.Errorf("render: board %d: %d×%d corners of %v m", i, b.Cols, b.Rows, b.SquareM)
		}
		if math.Abs(norm(b.Right)-1) > 1e-6 || math.Abs(norm(b.Down)-1) > 1e-6 || math.Abs(dot(b.Right, b.Down)) > 1e-6 {
			return fmt.Errorf("render: board %d: Right %v and Down %v must be orthogonal unit vectors", i, b.Right, b.Down)
		}
	}
	return nil
}

var errNoSize = errors.New("render: camera size must be positive")

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

type vec3 = [3]float64

func dot(a, b vec3) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func norm(a vec3) float64   { return math.Sqrt(dot(a, a)) }
func sub(a, b vec3) vec3    { return vec3{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func cross(a, b vec3) vec3 {
	return vec3{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}
