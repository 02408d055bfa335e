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
	p.x, p.y, p.th, p.fix = x/float64(len(os)), y/float64(len(os)), wrap(th), true
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
