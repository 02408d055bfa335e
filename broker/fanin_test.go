package broker

import (
	"fmt"
	"sync"
	"testing"

	"collaborate/internal/testkit"
	"collaborate/topics"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// TestFanIn: 50 robots burst QoS 0 poses at one TCP subscriber. With the
// default write queue nothing is lost; with a tiny queue (the control) the
// losses show up in Info().MessagesDropped, so a loss cannot go unseen.
func TestFanIn(t *testing.T) {
	const robots, each = 50, 400 // 20000 messages, over mochi's default queue of 8192
	cases := []struct {
		desc     string
		pending  int32
		lossless bool
	}{
		{"default queue", 0, true},
		{"tiny queue (control)", 8, false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			creds := testCreds(t)
			for i := range robots {
				id := fmt.Sprintf("f%02d", i)
				if err := creds.SetPassword(id, RoleRobot, []byte(pw(id))); err != nil {
					t.Fatal(err)
				}
			}
			b := startBroker(t, Options{Credentials: creds, MaxClientWritesPending: c.pending})
			url := tcpURL(b.Addrs().TCP)

			in := newInbox()
			so := pahoOpts(t, url, "watch", "fan-in-sub").SetCleanSession(true)
			so.SetOnConnectHandler(func(cl paho.Client) { cl.Subscribe(topics.RobotFilter(topics.KindPose), 0, in.handler) })
			connect(t, so)
			testkit.Eventually(t, wait, "the subscription", func() bool { return b.Info().Subscriptions >= 1 })

			clients := make([]paho.Client, robots)
			payloads := make([][][]byte, robots)
			for i := range robots {
				id := fmt.Sprintf("f%02d", i)
				clients[i] = connect(t, pahoOpts(t, url, id, id).SetCleanSession(true))
				for range each {
					payloads[i] = append(payloads[i], posePayload(t, id, 0.1))
				}
			}
			var wg sync.WaitGroup
			for i, cl := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					topic := topics.Robot(fmt.Sprintf("f%02d", i), topics.KindPose)
					var last paho.Token
					for _, p := range payloads[i] {
						last = cl.Publish(topic, 0, false, p)
					}
					last.WaitTimeout(wait)
				}()
			}
			wg.Wait()
			sent := robots * each
			testkit.Eventually(t, wait, "every message delivered or counted as dropped", func() bool {
				return int64(in.count())+b.Info().MessagesDropped >= int64(sent)
			})
			dropped := b.Info().MessagesDropped
			t.Logf("sent %d, received %d, dropped %d", sent, in.count(), dropped)
			if c.lossless && (dropped != 0 || in.count() != sent) {
				t.Errorf("received %d of %d, dropped %d: want nothing lost", in.count(), sent, dropped)
			}
			if drops := b.Drops(); drops[DropInvalidPayload] != 0 {
				t.Errorf("valid poses dropped: %v", drops)
			}
		})
	}
}
