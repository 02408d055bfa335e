package control_test

import (
	"testing"
	"time"

	"collaborate/robot/control"
	"collaborate/robot/hw/hwtest"
	"collaborate/robot/link"
	"collaborate/robot/pilot"
	"collaborate/topics"
)

type fakeLink struct {
	inbox chan link.Incoming
	state link.LinkState
	sent  []topics.Kind
}

func (f *fakeLink) Publish(k topics.Kind, _ topics.Message) error {
	f.sent = append(f.sent, k)
	return nil
}
func (f *fakeLink) Inbox() <-chan link.Incoming { return f.inbox }
func (f *fakeLink) State() link.LinkState       { return f.state }

// TestTickAfterLinkClosed: a link's Inbox is closed by Close; a tick after
// that must return (a closed channel is always ready) and halt the drive.
func TestTickAfterLinkClosed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		queued int // hold directives queued before the close
	}{{"empty", 0}, {"with queued directives", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := pilot.New(pilot.DefaultConfig("r1", pilot.FacesAt(100, 0)))
			if err != nil {
				t.Fatal(err)
			}
			fl := &fakeLink{inbox: make(chan link.Incoming, tc.queued)}
			for i := 0; i < tc.queued; i++ {
				d := &topics.Directive{Header: topics.Stamp("orchestrator", uint64(i+1), time.Now()), Epoch: 1, Kind: topics.DirHold}
				fl.inbox <- link.Incoming{Directive: d}
			}
			close(fl.inbox)
			drv := &hwtest.Drive{}
			clk := hwtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			// The camera sees nothing: the detector has no frames to play.
			l := &control.Loop{Pilot: p, Detector: &hwtest.Detector{}, Drive: drv, Link: fl, Clock: clk}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; i < 3; i++ {
					l.Tick()
					clk.Advance(50 * time.Millisecond)
				}
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Tick did not return with the link's inbox closed")
			}
			if drv.Halts() != 3 || drv.Sets() != 0 {
				t.Errorf("drive: %d halts, %d sets; want 3 halts (link down) and no set", drv.Halts(), drv.Sets())
			}
			// What was queued before the close is still applied.
			want := topics.StateOnline
			if tc.queued > 0 {
				want = topics.StateHolding
			}
			if got := p.State(); got != want {
				t.Errorf("pilot state %q, want %q", got, want)
			}
		})
	}
}
