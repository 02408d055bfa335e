package link_test

import (
	"fmt"
	"time"

	"collaborate/robot/link"
	"collaborate/topics"
)

// A robot's control loop: the failsafe reads State every tick, directives
// come from Inbox, checkpoints go out at QoS 1 through the on-disk outbox.
// (Compiled, not run: it needs a broker.)
func ExampleDial() {
	l, err := link.Dial(link.Options{
		BrokerURL: "tls://orchestrator.local:8883",
		RobotID:   "r1",
		Password:  "from the password file",
		CAFile:    "/etc/collaborate/ca.pem",
		StoreDir:  "/var/lib/collaborate/outbox",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		if st := l.State(); !st.Connected || !st.OrchestratorOnline {
			// drive.Halt(): fail safe, and stay stopped until a fresh directive.
			continue
		}
		select {
		case in := <-l.Inbox():
			_ = in.Directive // pilot.Apply(in.Directive): it orders directives by (epoch, seq)
		default:
		}
		// On reaching a marker:
		_ = l.Publish(topics.KindCheckpoint, &topics.Checkpoint{
			Header: l.Stamp(topics.KindCheckpoint), Epoch: 3, Marker: 5, Step: 1,
		})
	}
}
