package control

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"collaborate/robot/hw"
	"collaborate/robot/link"
	"collaborate/robot/pilot"
	"collaborate/topics"
)

// Link is what the loop needs of the MQTT link (robot/link.Link).
type Link interface {
	Publish(kind topics.Kind, msg topics.Message) error
	Inbox() <-chan link.Incoming
	State() link.LinkState
}

var _ Link = (*link.Link)(nil)

// Loop wires one pilot to its hardware and its link.
type Loop struct {
	Pilot    *pilot.Pilot
	Detector hw.Detector
	Drive    hw.Drive
	Link     Link
	Clock    hw.Clock
	Log      zerolog.Logger // names the robot (the caller's With)
	// OnMap, when set, sees every fleet map before the pilot does, e.g. to
	// hand its scale to the camera.
	OnMap func(*topics.FleetMap)

	detectErrors, publishErrors, driveErrors int
	lastState                                string
	ticks                                    atomic.Uint64
}

// Ticks is how many control steps have run: a loop that hangs stops
// counting (the robot's systemd watchdog watches it).
func (l *Loop) Ticks() uint64 { return l.ticks.Load() }

// Stats are the loop's error counters.
type Stats struct {
	DetectErrors, PublishErrors, DriveErrors int
}

// Stats returns the loop's error counters.
func (l *Loop) Stats() Stats {
	return Stats{DetectErrors: l.detectErrors, PublishErrors: l.publishErrors, DriveErrors: l.driveErrors}
}

// Tick runs one control step.
func (l *Loop) Tick() {
	defer l.ticks.Add(1)
	in := pilot.Input{Now: l.Clock.Now()}
	// The link's state before its messages: whatever arrived before the
	// heartbeat that made the link fit to move (a retained fleet stop) is
	// then in this very tick.
	st := l.Link.State()
	l.drain(&in) // in the order the broker sent them (robot/link)
	in.Link = pilot.LinkState{Connected: st.Connected, OrchestratorOnline: st.OrchestratorOnline, Reason: st.Reason}

	dets, err := l.Detector.Detect()
	if err != nil {
		l.detectErrors++
		if l.detectErrors == 1 || l.detectErrors%100 == 0 {
			l.Log.Warn().Err(err).Int("count", l.detectErrors).Msg("camera frame lost")
		}
		dets = nil
	} else if dets == nil {
		dets = []hw.Detection{} // a frame with nothing in it, not a missing frame
	}
	in.Detections = dets

	out := l.Pilot.Step(in)
	for _, p := range out.Problems {
		l.Log.Warn().Str("reason", p).Msg("input rejected")
	}
	if out.Halt {
		err = l.Drive.Halt()
	} else {
		err = l.Drive.Set(out.LinearMps, out.AngularRps)
	}
	if err != nil {
		l.driveErrors++
		l.Log.Error().Err(err).Msg("drive command failed")
	}
	for _, m := range out.Publish {
		if err := l.Link.Publish(m.Kind, m.Body); err != nil {
			if errors.Is(err, link.ErrNotConnected) {
				continue // QoS 0 while offline: dropped by design
			}
			l.publishErrors++
			l.Log.Warn().Err(err).Str("kind", string(m.Kind)).Msg("publish failed")
		}
	}
	if s := l.Pilot.State(); s != l.lastState {
		l.Log.Info().Str("from", l.lastState).Str("to", s).Msg("robot state")
		l.lastState = s
	}
}

// drain takes everything the link has queued, without blocking.
func (l *Loop) drain(in *pilot.Input) {
	for {
		select {
		case m, ok := <-l.Link.Inbox():
			if !ok {
				// Closed link: a closed channel is always ready, and
				// reading on would spin here forever.
				return
			}
			switch {
			case m.Directive != nil:
				in.Directives = append(in.Directives, *m.Directive)
			case m.FleetCommand != nil:
				in.Fleet = append(in.Fleet, *m.FleetCommand)
			case m.FleetMap != nil:
				if l.OnMap != nil {
					l.OnMap(m.FleetMap)
				}
				in.Map = m.FleetMap
			}
		default:
			return
		}
	}
}

// Run ticks every period until ctx ends, then halts the drive. A panic in
// the pilot halts the drive before it propagates.
func (l *Loop) Run(ctx context.Context, period time.Duration) (err error) {
	defer func() {
		if herr := l.Drive.Halt(); herr != nil && err == nil {
			err = herr
		}
	}()
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			l.Tick()
		}
	}
}
