package faults

import (
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"collaborate/internal/testkit"
	"collaborate/orchestrator/core"
	"collaborate/topics"
)

const topicsRobotSilence = topics.RobotSilence

// A robot (another implementation, logged in as r9) publishes a 300 KB
// payload at QoS 1, five times the broker's packet limit, with paho's
// auto-reconnect: the broker acknowledges and drops it, counted, and keeps
// the connection, so no will fires and paho has nothing to replay. The
// fleet is not disturbed.
func TestOversizedPayload(t *testing.T) {
	t.Parallel()
	f := start(t, options{accounts: []string{"r9"}})
	lost := make(chan error, 10)
	o := paho.NewClientOptions().AddBroker("tcp://" + f.mqttAddr).SetClientID("r9").SetUsername("r9").
		SetPassword(password("r9")).SetCleanSession(false).SetAutoReconnect(true).
		SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err })
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect as r9: %v", tok.Error())
	}
	defer c.Disconnect(100)
	f.midRoute()
	big := `{"v":1,"sender":"r9","pad":"` + strings.Repeat("x", 300*1024) + `"}`
	tok := c.Publish(topics.Robot("r9", topics.KindStatus), 1, true, big)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("300 KB publish not acknowledged: %v", tok.Error())
	}
	select {
	case err := <-lost:
		t.Fatalf("r9 was disconnected for the oversized publish: %v", err)
	case <-time.After(3 * time.Second):
	}
	if !strings.Contains(f.metrics(), `collaborate_broker_drops_total{reason="packet_too_large",robot="r9"} 1`) {
		t.Errorf("the oversized packet is not counted in /metrics")
	}
	f.waitDone()
	if v := f.fleetView(); v != nil && v.Stats.OfflineByWill != 0 {
		t.Errorf("%d wills fired", v.Stats.OfflineByWill)
	}
	f.finish()
}

// Fleet stop reaches a robot that (re)starts while the fleet is stopped:
// the stop is retained. It stays stopped until the operator's resume all,
// then every mission finishes.
func TestFleetStopLateJoiner(t *testing.T) {
	t.Parallel()
	f := start(t, options{})
	id := f.midRoute()
	f.post("/api/fleet/stop")
	testkit.Eventually(t, 5*time.Second, "every robot to halt", func() bool {
		for _, r := range f.ids {
			if f.truth.speed(r) != 0 {
				return false
			}
		}
		return true
	}, f.describe)
	f.robots[id].Kill()
	time.Sleep(time.Second)
	f.startRobot(id)
	joined := time.Now()
	f.waitFor(sim(20)+10*time.Second, id+" back online, holding", func(v *core.FleetView) bool {
		for _, r := range v.Robots {
			if r.ID == id {
				return r.Online && r.State == topics.StateHolding
			}
		}
		return false
	})
	time.Sleep(sim(10))
	for _, r := range f.ids {
		if d, last := f.truth.travel(r, joined.Add(-time.Second), time.Now()); d > 0.01 {
			t.Errorf("%s drove %.3f m during the fleet stop (last move %v after %s rejoined)", r, d, last, id)
		}
	}
	f.post("/api/fleet/resume")
	f.waitDone()
	f.finish()
}
