package pilot

import (
	"fmt"
	"math"
	"time"

	"collaborate/robot/hw"
	"collaborate/topics"
)

// readFrame validates and classifies a frame's detections. Bad values and
// unknown ids are rejected and counted; the robot's own faces are dropped.
func (p *Pilot) readFrame(dets []hw.Detection, out *Output) []seen {
	if len(dets) == 0 {
		return nil
	}
	own := p.cfg.Faces
	frame := make([]seen, 0, len(dets))
	for _, d := range dets {
		if math.IsNaN(d.DistanceM) || math.IsInf(d.DistanceM, 0) || d.DistanceM < 0 ||
			math.IsNaN(d.BearingRad) || d.BearingRad < -math.Pi || d.BearingRad > math.Pi || d.MarkerID < 0 {
			p.stats.RejectedDetections++
			out.Problems = append(out.Problems, fmt.Sprintf("detection rejected: marker %d distance %v m bearing %v rad: need an id >= 0, a finite distance >= 0 and a bearing within ±π",
				d.MarkerID, d.DistanceM, d.BearingRad))
			continue
		}
		s := seen{id: d.MarkerID, rawM: d.DistanceM, distM: d.DistanceM * p.scale, bearing: d.BearingRad}
		switch id := d.MarkerID; {
		case id == own.Front || id == own.Left || id == own.Back || id == own.Right:
			continue
		case id <= p.cfg.ArenaMaxID:
			s.kind = topics.MarkerArena
		default:
			o, ok := p.roster[id]
			if !ok && id >= p.cfg.FaceBase {
				o, ok = owner{face: topics.FaceNames[(id-p.cfg.FaceBase)%4]}, true
			}
			if !ok {
				p.stats.RejectedDetections++
				out.Problems = append(out.Problems, fmt.Sprintf("detection rejected: marker %d is neither an arena marker (0..%d) nor a face marker (from %d or in the roster)",
					id, p.cfg.ArenaMaxID, p.cfg.FaceBase))
				continue
			}
			s.kind, s.robot, s.face = topics.MarkerFace, o.robot, o.face
		}
		frame = append(frame, s)
	}
	return frame
}

// publishSightings reports a frame. During the mapping sweep distances are
// the camera's own (the orchestrator derives the scale from them) and the
// heading is the angle turned so far; otherwise distances are scaled and the
// heading is the pose estimate's, when there is one.
func (p *Pilot) publishSightings(now time.Time, frame []seen, out *Output) {
	msg := &topics.Sightings{Header: p.stamp(topics.KindSightings, now), Seen: make([]topics.Sighting, 0, len(frame))}
	mapping := p.mode == modeMapping
	switch {
	case mapping:
		h := p.mapTurned
		msg.HeadingRad = &h
	case p.fix:
		h := p.th
		msg.HeadingRad = &h
	}
	for _, s := range frame {
		d := s.distM
		if mapping {
			d = s.rawM
		}
		msg.Seen = append(msg.Seen, topics.Sighting{MarkerID: s.id, Kind: s.kind, Robot: s.robot, Face: s.face,
			DistanceM: d, BearingRad: s.bearing})
	}
	out.Publish = append(out.Publish, Msg{Kind: topics.KindSightings, Body: msg})
}

// locate fixes the pose from mapped arena markers in one frame. With two or
// more, the heading comes from the direction between each pair, as the
// camera sees it against the map, and the position from the mean of the
// markers' back-projections. With one, it keeps the dead-reckoned heading of
// an earlier fix and corrects the position only.
func (p *Pilot) locate(frame []seen) {
	if !p.haveMap {
		return
	}
	type obs struct {
		m    [2]float64
		d, b float64
	}
	var os []obs
	for _, s := range frame {
		if m, ok := p.markers[s.id]; ok && s.kind == topics.MarkerArena {
			os = append(os, obs{m: m, d: s.distM, b: s.bearing})
		}
	}
	th := p.th
	switch {
	case len(os) >= 2:
		var sx, sy float64
		for i := range os {
			for j := i + 1; j < len(os); j++ {
				a, c := os[i], os[j]
				wx := a.d*math.Cos(a.b) - c.d*math.Cos(c.b)
				wy := a.d*math.Sin(a.b) - c.d*math.Sin(c.b)
				w := math.Hypot(wx, wy)
				if w < 0.05 {
					continue // too close together to tell a direction
				}
				t := math.Atan2(a.m[1]-c.m[1], a.m[0]-c.m[0]) - math.Atan2(wy, wx)
				sx += w * math.Cos(t)
				sy += w * math.Sin(t)
			}
		}
		if sx == 0 && sy == 0 {
			return
		}
		th = math.Atan2(sy, sx)
	case len(os) == 1 && p.fix:
	default:
		return
	}
	var x, y float64
	for _, o := range os {
		x += o.m[0] - o.d*math.Cos(th+o.b)
		y += o.m[1] - o.d*math.Sin(th+o.b)
	}
	x, y = x/float64(len(os)), y/float64(len(os))
	if len(os) >= 2 {
		ms := make([]markerObs, len(os))
		for i, o := range os {
			ms[i] = markerObs{mx: o.m[0], my: o.m[1], d: o.d, b: o.b}
		}
		x, y, th = refinePose(ms, x, y, th)
	}
	if p.fix {
		// Blend the new fix into the dead-reckoned pose: one frame's fix is
		// noisy (centimetres along the line of sight, more sideways from
		// markers across the arena), and a robot parks by its pose.
		k := fixGain
		p.x += k * (x - p.x)
		p.y += k * (y - p.y)
		p.th = wrap(p.th + k*wrap(th-p.th))
		return
	}
	p.x, p.y, p.th, p.fix = x, y, wrap(th), true
}

// fixGain is how much of each new fix the pose estimate takes (at 20 frames
// a second, it follows a change within half a second).
const fixGain = 0.3

// markerObs is one mapped marker seen in a frame: its map position, and
// the camera's distance and bearing.
type markerObs struct{ mx, my, d, b float64 }

// Noise the pose refinement assumes: bearings are good to about half a
// degree, camera distances to a few percent.
const (
	bearingSigmaRad = 0.01
	distanceSigma   = 0.03
)

// refinePose improves a first pose guess from two or more markers by
// weighted least squares (Gauss-Newton) on every bearing and distance. The
// first guess averages back-projections, so a distance error of a few
// centimetres on a far marker turns the heading by degrees, and the
// position by decimetres; bearings are far more precise, and the
// refinement weighs them so. It returns the guess unchanged when the
// geometry is degenerate.
func refinePose(os []markerObs, x, y, th float64) (float64, float64, float64) {
	x0, y0, th0 := x, y, th
	for iter := 0; iter < 8; iter++ {
		var a [3][3]float64
		var g [3]float64
		for _, o := range os {
			dx, dy := o.mx-x, o.my-y
			r2 := dx*dx + dy*dy
			if r2 < 1e-6 {
				return x0, y0, th0
			}
			r := math.Sqrt(r2)
			// Bearing: predicted atan2(dy, dx) - th.
			eb := wrap(math.Atan2(dy, dx) - th - o.b)
			jb := [3]float64{dy / r2, -dx / r2, -1}
			wb := 1 / (bearingSigmaRad * bearingSigmaRad)
			// Distance: predicted r.
			ed := r - o.d
			jd := [3]float64{-dx / r, -dy / r, 0}
			sd := distanceSigma * math.Max(o.d, 0.1)
			wd := 1 / (sd * sd)
			for i := 0; i < 3; i++ {
				g[i] += wb*jb[i]*eb + wd*jd[i]*ed
				for j := 0; j < 3; j++ {
					a[i][j] += wb*jb[i]*jb[j] + wd*jd[i]*jd[j]
				}
			}
		}
		d, ok := solve3x3(a, [3]float64{-g[0], -g[1], -g[2]})
		if !ok || math.Hypot(d[0], d[1]) > 1 || math.Abs(d[2]) > 0.5 {
			return x0, y0, th0 // degenerate, or diverging: keep the guess
		}
		x, y, th = x+d[0], y+d[1], th+d[2]
		if math.Abs(d[0])+math.Abs(d[1]) < 1e-5 && math.Abs(d[2]) < 1e-6 {
			break
		}
	}
	return x, y, th
}

// solve3x3 solves a·v = b by Cramer's rule.
func solve3x3(a [3][3]float64, b [3]float64) ([3]float64, bool) {
	det := func(m [3][3]float64) float64 {
		return m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) -
			m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) +
			m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	}
	d := det(a)
	// Singular relative to the matrix's own scale (its entries reach 1e6).
	scale := math.Abs(a[0][0] * a[1][1] * a[2][2])
	if math.IsNaN(d) || scale == 0 || math.Abs(d) <= 1e-9*scale {
		return [3]float64{}, false
	}
	var v [3]float64
	for c := 0; c < 3; c++ {
		m := a
		for r := 0; r < 3; r++ {
			m[r][c] = b[r]
		}
		v[c] = det(m) / d
	}
	return v, true
}

// targetDistance is the distance to marker id: from a recent sighting carried
// forward by odometry, else from the pose estimate and the map.
func (p *Pilot) targetDistance(now time.Time, id int) (float64, bool) {
	if p.tgt.valid && p.tgt.id == id && now.Sub(p.tgt.at) <= 2*time.Second {
		return math.Max(0, p.tgt.distM-(p.odo-p.tgt.odoAt)), true
	}
	if m, ok := p.markers[id]; ok && p.fix {
		return math.Hypot(m[0]-p.x, m[1]-p.y), true
	}
	return 0, false
}
