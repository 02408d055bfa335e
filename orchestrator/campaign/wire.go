package campaign

import (
	"fmt"

	"collaborate/robot/control"
	"collaborate/robot/link"
	"collaborate/robot/pilot"
	"collaborate/topics"
)

// wire is a robot's end of the in-process link (control.Link): what the
// orchestrator sent it waits in its inbox for the robot's next tick, and
// what it publishes waits for the orchestrator after the world's step.
// Both ways thus take one tick, as over Wi-Fi.
type wire struct {
	inbox chan link.Incoming
	out   []pilot.Msg
}

var _ control.Link = (*wire)(nil)

// inboxSize bounds what a robot may be sent in one tick.
const inboxSize = 256

func newWire() *wire { return &wire{inbox: make(chan link.Incoming, inboxSize)} }

// Publish keeps msg for the orchestrator.
func (w *wire) Publish(kind topics.Kind, msg topics.Message) error {
	w.out = append(w.out, pilot.Msg{Kind: kind, Body: msg})
	return nil
}

// Inbox is what the orchestrator sent since the robot's last tick.
func (w *wire) Inbox() <-chan link.Incoming { return w.inbox }

// State is always connected, with the orchestrator online.
func (w *wire) State() link.LinkState {
	return link.LinkState{Connected: true, OrchestratorOnline: true}
}

// send queues a message for the robot's next tick.
func (w *wire) send(in link.Incoming) error {
	select {
	case w.inbox <- in:
		return nil
	default:
		return fmt.Errorf("campaign: more than %d messages for one robot in one tick", inboxSize)
	}
}

// take returns what the robot published since the last take.
func (w *wire) take() []pilot.Msg {
	out := w.out
	w.out = nil
	return out
}
