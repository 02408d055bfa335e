package conform

import (
	"fmt"
	"math"
	"time"

	"collaborate/topics"
)

// The motion checks judge the world's truth when the robot has a body in
// the kit's world, else what the robot reports: its poses' speed and its
// checkpoints.

// poseSpeedAt is how recent a pose must be to tell the robot moves.
const poseFresh = 600 * time.Millisecond

// driving reports whether the robot drives forward now, and how far it
// still has to go to the point (x, y) less stop.
func (k *kit) driving(x, y, stop float64) (bool, float64) {
	if k.tr != nil {
		s, ok := k.tr.latest()
		if !ok {
			return false, 0
		}
		return s.CmdLin > 0.05 && s.Lin > 0.05, math.Hypot(x-s.X, y-s.Y) - stop
	}
	ms := k.rec.messages(0, topics.KindPose)
	if len(ms) == 0 {
		return false, 0
	}
	m := ms[len(ms)-1]
	p := m.Msg.(*topics.Pose)
	left := math.Inf(1)
	if p.DistanceM != nil {
		left = *p.DistanceM - stop
	}
	return time.Since(m.At) < poseFresh && p.SpeedMps > 0.05, left
}

// waitDriving waits until the robot drives towards (x, y) with at least
// room metres to go before it stops, so that a stop the kit provokes is
// not one the robot would have made anyway.
func (k *kit) waitDriving(timeout time.Duration, x, y, stop, room float64) bool {
	return waitFor(timeout, func() bool {
		d, left := k.driving(x, y, stop)
		return d && left >= room
	})
}

// waitMoves waits until the robot gives a drive command (or reports a
// speed).
func (k *kit) waitMoves(timeout time.Duration) bool {
	from := time.Now()
	mark := k.rec.mark()
	return waitFor(timeout, func() bool {
		if k.tr != nil {
			s, ok := k.tr.latest()
			return ok && s.At.After(from) && s.commanding()
		}
		for _, m := range k.rec.messages(mark, topics.KindPose) {
			if p, ok := m.Msg.(*topics.Pose); ok && p.SpeedMps != 0 {
				return true
			}
		}
		return false
	})
}

// still says whether the robot stood between from and to: no drive
// command and no move of a centimetre (truth), else no pose with a speed
// and no checkpoint; when not, what it did.
func (k *kit) still(from, to time.Time) (bool, string) {
	if k.tr != nil {
		ss := k.tr.between(from, to)
		last, d := lastCommand(ss), travel(ss)
		if last.IsZero() && d < 0.01 {
			return true, ""
		}
		s := fmt.Sprintf("drove %.3f m", d)
		if !last.IsZero() {
			s += fmt.Sprintf(", its last drive command %.2f s into the %.1f s it had to stand", last.Sub(from).Seconds(), to.Sub(from).Seconds())
		}
		return false, s
	}
	for _, m := range k.rec.messages(0, "") {
		if m.At.Before(from) || m.At.After(to) || m.Msg == nil {
			continue
		}
		switch v := m.Msg.(type) {
		case *topics.Pose:
			if v.SpeedMps != 0 {
				return false, fmt.Sprintf("reported a speed of %.2f m/s %.2f s into the %.1f s it had to stand", v.SpeedMps, m.At.Sub(from).Seconds(), to.Sub(from).Seconds())
			}
		case *topics.Checkpoint:
			return false, fmt.Sprintf("reached step %d %.2f s into the %.1f s it had to stand", v.Step, m.At.Sub(from).Seconds(), to.Sub(from).Seconds())
		}
	}
	return true, ""
}

// halted says whether the robot's last drive command after cause was at
// most bound after it, looking until until; when not, what it did.
func (k *kit) halted(cause time.Time, bound time.Duration, until time.Time) (bool, string) {
	if k.tr != nil {
		ss := k.tr.between(cause, until)
		last := lastCommand(ss)
		if last.IsZero() || !last.After(cause.Add(bound)) {
			return true, fmt.Sprintf("last drive command %.3f s after, %.3f m blind", lastOr0(last, cause), travel(ss))
		}
		return false, fmt.Sprintf("drove until %.3f s after (bound %.2f s), %.3f m", last.Sub(cause).Seconds(), bound.Seconds(), travel(ss))
	}
	var last time.Time
	for _, m := range k.rec.messages(0, topics.KindPose) {
		if p := m.Msg.(*topics.Pose); !m.At.Before(cause) && !m.At.After(until) && p.SpeedMps != 0 {
			last = m.At
		}
	}
	// A pose tells a speed at most a pose period late.
	if last.IsZero() || !last.After(cause.Add(bound+200*time.Millisecond)) {
		return true, fmt.Sprintf("last pose with a speed %.3f s after", lastOr0(last, cause))
	}
	return false, fmt.Sprintf("reported a speed until %.3f s after (bound %.2f s)", last.Sub(cause).Seconds(), bound.Seconds())
}

func lastOr0(last, from time.Time) float64 {
	if last.IsZero() {
		return 0
	}
	return last.Sub(from).Seconds()
}

// markerAt returns the position of arena marker id.
func (k *kit) markerAt(id int) (float64, float64) {
	for _, m := range k.markers {
		if m.ID == id {
			return m.XM, m.YM
		}
	}
	return 0, 0
}
