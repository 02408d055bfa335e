package faults

import (
	"testing"
	"time"

	"collaborate/internal/testkit"
	"collaborate/orchestrator/core"
)

// A half-open link: the robot's Wi-Fi hangs, both ways, sockets open. The
// robot halts within the liveness bound (it hears no orchestrator
// heartbeat), the orchestrator takes it offline and plans around it, and
// when the link comes back it reconnects and finishes without a human.
func halfOpen(t *testing.T, cut time.Duration) {
	f := start(t, options{})
	id := f.midRoute()
	f.freeze(id)
	frozen := time.Now()
	time.Sleep(cut)
	d, last := f.truth.travel(id, frozen, time.Now())
	t.Logf("%s halted %v after its link froze, having driven %.3f m (%.3f m at real time)", id, last.Round(time.Millisecond), d, d / *speed)
	// The bound: 0.8 s without a heartbeat, a control tick, the brake;
	// measured on snapshots 0.1 s of sim time apart.
	if bound := time.Second; last > bound {
		t.Errorf("%s drove blind for %v (%.3f m) after its link froze, want <= %v", id, last, d, bound)
	}
	if v := f.fleetView(); v != nil {
		for _, r := range v.Robots {
			if r.ID == id && r.Online {
				t.Errorf("%s still online at the orchestrator after %v of silence", id, cut)
			}
		}
	}
	f.thaw(id)
	f.waitDone()
	f.finish()
}

func TestHalfOpenLink15s(t *testing.T) { t.Parallel(); halfOpen(t, 15*time.Second) }

// Longer than the MQTT keepalive on both sides: the robot's paho and the
// broker drop the connection, and the robot reconnects after.
func TestHalfOpenLink45s(t *testing.T) { t.Parallel(); halfOpen(t, 45*time.Second) }

// A robot that publishes nothing but its heartbeat while it stands (poses
// and status once an hour) is never taken offline, even held for longer
// than the orchestrator's silence timeout.
func TestQuietRobot(t *testing.T) {
	t.Parallel()
	f := start(t, options{robotConfig: "pilot:\n  pose_idle_every: 1h\n  status_every: 1h\n"})
	id := f.midRoute()
	f.post("/api/robots/" + id + "/hold")
	testkit.Eventually(t, 5*time.Second, id+" to halt", func() bool { return f.truth.speed(id) == 0 }, f.describe)
	held := time.Now()
	for time.Since(held) < 3*topicsRobotSilence {
		v := f.fleetView()
		if v == nil {
			t.Fatal("the orchestrator stopped answering")
		}
		for _, r := range v.Robots {
			if r.ID == id && !r.Online {
				t.Fatalf("%s, held and quiet, was taken offline (%s) after %v", id, r.OfflineReason, time.Since(held))
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.post("/api/robots/" + id + "/resume")
	f.waitDone()
	if v := f.fleetView(); v != nil && v.Stats.OfflineBySilence != 0 {
		t.Errorf("%d robots taken offline by silence", v.Stats.OfflineBySilence)
	}
	f.finish()
}

// A robot process killed mid-route: its last will tells the orchestrator at
// once (not after the silence timeout), its body stands in the world, an
// obstacle the others are planned around; restarted, it finishes.
func TestRobotKilledWill(t *testing.T) {
	t.Parallel()
	f := start(t, options{})
	id := f.midRoute()
	f.robots[id].Kill()
	killed := time.Now()
	f.waitFor(5*time.Second, id+" offline by its will", func(v *core.FleetView) bool {
		for _, r := range v.Robots {
			if r.ID == id {
				return !r.Online && r.OfflineReason == "will"
			}
		}
		return false
	})
	t.Logf("%s offline by its will %v after the kill", id, time.Since(killed).Round(time.Millisecond))
	time.Sleep(sim(10))
	f.startRobot(id)
	f.waitDone()
	f.finish()
}
