package vision

import "math"

// pose places a marker in front of a level camera: its centre at horizontal
// distance distM and bearing bearingRad (left positive) from the optical
// axis, heightM below the optical axis (y points down), turned yawRad about
// its vertical axis (0: parallel to the image plane; positive: its right edge
// farther).
type pose struct {
	distM, bearingRad, yawRad, heightM float64
}

// project is the forward pinhole model the tests check Locate against: the
// marker's four corners in ArUco order (clockwise from its top-left), in
// pixels.
func project(p pose, in Intrinsics, sideM float64) [4][2]float64 {
	c := [3]float64{-p.distM * math.Sin(p.bearingRad), p.heightM, p.distM * math.Cos(p.bearingRad)}
	right := [3]float64{math.Cos(p.yawRad), 0, math.Sin(p.yawRad)}
	up := [3]float64{0, -1, 0}
	h := sideM / 2
	var out [4][2]float64
	for k, sgn := range [4][2]float64{{-1, 1}, {1, 1}, {1, -1}, {-1, -1}} { // TL, TR, BR, BL
		var pt [3]float64
		for a := 0; a < 3; a++ {
			pt[a] = c[a] + sgn[0]*h*right[a] + sgn[1]*h*up[a]
		}
		out[k] = [2]float64{in.CX + in.FX*pt[0]/pt[2], in.CY + in.FY*pt[1]/pt[2]}
	}
	return out
}

// rad converts degrees, for readable tables.
func rad(deg float64) float64 { return deg * math.Pi / 180 }

// deg converts radians, for readable failures.
func deg(r float64) float64 { return r * 180 / math.Pi }
