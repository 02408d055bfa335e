package vision

import (
	"errors"
	"fmt"
	"math"
)

// Range is where a marker's centre is, seen from the camera.
type Range struct {
	// DistanceM is the range to the marker's centre in the floor plane
	// (metres): the height difference between camera and marker is left out,
	// because the robot drives on the floor.
	DistanceM float64
	// BearingRad is the direction of the marker's centre from the optical
	// axis, counter-clockwise (to the left) positive.
	BearingRad float64
	// YawRad is the marker's turn about its vertical axis: 0 when it is
	// parallel to the image plane, positive counter-clockwise seen from
	// above (its right edge, as the camera sees it, farther away).
	YawRad float64
	// EdgePx is the image length of the shorter of the two edges the range
	// comes from, in pixels: how much the range can be trusted.
	EdgePx float64
}

// Locate ranges a marker from its four image corners with the pinhole model,
// for a marker of side sideM metres mounted upright (its edges vertical and
// horizontal) and a level camera with intrinsics in.
//
// Why this works without solvePnP: a vertical 3D segment of length s seen by
// a level camera lies at one depth Z, so its image is s·f/Z long. Each of
// the marker's two vertical edges thus gives its own depth, and the marker's
// centre, half-way between them in 3D, is at their average depth and
// lateral offset. That is exact for any yaw of the marker and robust to a
// little roll; the two horizontal edges are never used for depth, because
// their image length shrinks with yaw.
//
// Corners are as detected, in the distorted image: with distortion
// coefficients in in, each corner is first moved to where an ideal pinhole
// camera with the same fx, fy, cx, cy sees it (package lens inverts the
// model; cv::undistortPoints does the same less exactly). The marker's
// edges between the corners are curved in a distorted image, but its
// corners are points, so they undistort exactly. EdgePx stays the detected
// length, the pixels the range actually rests on.
//
// Corners may be in any cyclic order; the more vertical pair of opposite
// edges is taken as the vertical edges.
func Locate(detected [4][2]float64, in Intrinsics, sideM float64) (Range, error) {
	if !(in.FX > 0 && in.FY > 0) || math.IsInf(in.FX, 0) || math.IsInf(in.FY, 0) {
		return Range{}, fmt.Errorf("locate: bad focal lengths fx=%v fy=%v", in.FX, in.FY)
	}
	if !(sideM > 0) || math.IsInf(sideM, 0) {
		return Range{}, fmt.Errorf("locate: bad marker side %v m", sideM)
	}
	for k, c := range detected {
		if !finite(c[0]) || !finite(c[1]) {
			return Range{}, fmt.Errorf("locate: corner %d is %v", k, c)
		}
	}
	corners := detected
	if in.Distorted() {
		m := in.Lens()
		for k, c := range detected {
			u, v, ok := m.Ideal(c[0], c[1])
			if !ok {
				return Range{}, fmt.Errorf("locate: corner %d at %v is beyond where the lens model can be inverted", k, c)
			}
			corners[k] = [2]float64{u, v}
		}
	}
	// Opposite edge pairs: (0→1, 2→3) and (1→2, 3→0). Pick the more vertical.
	vert := func(a, b [2]float64) float64 {
		dx, dy := math.Abs(b[0]-a[0]), math.Abs(b[1]-a[1])
		if dx+dy == 0 {
			return 0
		}
		return dy / (dx + dy)
	}
	pairs := [2][2]int{{0, 1}, {2, 3}}
	if vert(corners[1], corners[2])+vert(corners[3], corners[0]) > vert(corners[0], corners[1])+vert(corners[2], corners[3]) {
		pairs = [2][2]int{{1, 2}, {3, 0}}
	}
	var pts [2][3]float64 // the edges' midpoints in camera coordinates (x right, y down, z forward)
	edgePx := math.Inf(1)
	for i, p := range pairs {
		a, b := detected[p[0]], detected[p[1]]
		edgePx = math.Min(edgePx, math.Hypot(b[0]-a[0], b[1]-a[1]))
		edge := [2][2]float64{corners[p[0]], corners[p[1]]}
		// The edge's length in normalised image coordinates is sideM / Z.
		nx := (edge[1][0] - edge[0][0]) / in.FX
		ny := (edge[1][1] - edge[0][1]) / in.FY
		n := math.Hypot(nx, ny)
		if n < 1e-9 {
			return Range{}, errors.New("locate: degenerate marker (an edge of zero length)")
		}
		z := sideM / n
		u := (edge[0][0] + edge[1][0]) / 2
		v := (edge[0][1] + edge[1][1]) / 2
		pts[i] = [3]float64{(u - in.CX) / in.FX * z, (v - in.CY) / in.FY * z, z}
	}
	x := (pts[0][0] + pts[1][0]) / 2
	z := (pts[0][2] + pts[1][2]) / 2
	// Order the two edges left to right (smaller x first) for the yaw.
	l, r := pts[0], pts[1]
	if l[0] > r[0] {
		l, r = r, l
	}
	yaw := math.Atan2(r[2]-l[2], r[0]-l[0])
	return Range{
		DistanceM:  math.Hypot(x, z),
		BearingRad: math.Atan2(-x, z),
		YawRad:     yaw,
		EdgePx:     edgePx,
	}, nil
}

// SidePx is the shortest side of the quadrilateral, in pixels.
func SidePx(corners [4][2]float64) float64 {
	m := math.Inf(1)
	for k := range corners {
		a, b := corners[k], corners[(k+1)%4]
		m = math.Min(m, math.Hypot(b[0]-a[0], b[1]-a[1]))
	}
	return m
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
