package e2e_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"collaborate/internal/testkit"
	"collaborate/topics"
)

// TestRoutesInOrder: two robots on opposite halves follow routes given
// directly on robots/{id}/cmd; their checkpoints reach both the broker's
// Accept hook (where the orchestrator persists them) and a subscriber of
// robots/+/checkpoint, in route order, each step once, Final on the last.
func TestRoutesInOrder(t *testing.T) {
	h := newHarness(t, opposite(), nil)
	sub := newCollector()
	if err := h.b.Subscribe(topics.RobotFilter(topics.KindCheckpoint), 1, func(topic string, p []byte) {
		sub.add(1, topic, p)
	}); err != nil {
		t.Fatal(err)
	}
	h.goOnline()
	h.waitLinksUp()
	h.sendRoutes(1)
	h.waitFinals(30 * time.Second)
	testkit.Eventually(t, 10*time.Second, "the subscriber to get every final checkpoint", func() bool {
		return sub.hasFinal("r1") && sub.hasFinal("r2")
	})

	for _, r := range h.robots {
		t.Run(r.spec.id, func(t *testing.T) {
			for _, c := range []struct {
				name string
				c    *collector
			}{{"accepted", h.cps}, {"subscriber", sub}} {
				t.Run(c.name, func(t *testing.T) { checkRoute(t, c.c, r.spec.id, 1, r.spec.route) })
			}
			if rec := h.lastTick(r.spec.id); rec.state != topics.StateDone {
				t.Errorf("state after the route = %q, want %q", rec.state, topics.StateDone)
			}
		})
	}
	for name, c := range map[string]*collector{"accepted": h.cps, "subscriber": sub} {
		dups, bad := c.duplicates()
		if len(bad) > 0 {
			t.Errorf("%s: undecodable checkpoints: %v", name, bad)
		}
		// No outage here: QoS 1 has no reason to redeliver.
		if dups != 0 {
			t.Errorf("%s: %d duplicate checkpoints without any outage", name, dups)
		}
	}
	if n := h.world.CollisionCount(); n != 0 {
		t.Errorf("%d collisions on routes that never cross", n)
	}
	t.Logf("sim time %v for both routes", h.world.Elapsed().Round(time.Millisecond))
}

// TestBrokerRestartMidRoute: the broker goes down while both robots drive.
// The checkpoint r1 reaches as it goes down is refused unacknowledged by the
// dying broker (Accept), so only r1's outbox can deliver it, after the
// restart. While the broker is down both robots stop; after the restart they
// stay stopped in failsafe until a fresh directive (a resume with a higher
// seq), then finish. Every step arrives, in order; duplicates, which QoS 1
// may produce, are counted and dedupe to one. (The link-level variant, a
// checkpoint published while the broker is down, is
// robot/link.TestCheckpointWhileBrokerDownIsDeliveredOnce.)
func TestBrokerRestartMidRoute(t *testing.T) {
	var (
		trigger = make(chan struct{})
		once    sync.Once
		going   atomic.Bool // the first broker refuses every checkpoint from the trigger on
		refused atomic.Int64
	)
	accept := func(gen int, topic string, payload []byte) error {
		tp, err := topics.Parse(topic)
		if err != nil || tp.Kind != topics.KindCheckpoint || gen != 1 {
			return nil
		}
		if !going.Load() {
			cp, err := topics.DecodeCheckpoint(payload)
			if err != nil || tp.Robot != "r1" || cp.Step != 1 {
				return nil
			}
			going.Store(true)
			once.Do(func() { close(trigger) })
		}
		refused.Add(1)
		return errRefused
	}
	h := newHarness(t, opposite(), accept)
	h.goOnline()
	h.waitLinksUp()
	h.sendRoutes(1)

	select {
	case <-trigger:
	case <-time.After(30 * time.Second):
		t.Fatal("r1 never reached its second checkpoint")
	}
	down := h.ticks()
	if err := h.b.Close(); err != nil {
		t.Fatalf("close broker: %v", err)
	}
	testkit.Eventually(t, 10*time.Second, "both robots disconnected and stopped", func() bool {
		for _, r := range h.robots {
			rec := h.lastTick(r.spec.id)
			if rec.connected || !still(rec.lin, rec.ang) {
				return false
			}
		}
		return true
	})
	stopped := h.ticks()
	t.Logf("both robots stopped %d control ticks (%v sim) after the broker closed", stopped-down,
		time.Duration(stopped-down)*controlPeriod)
	// The outage lasts 8 s of sim time (2 s of wall time at 4x).
	testkit.Eventually(t, 20*time.Second, "8 s of sim time with the broker down", func() bool {
		return h.ticks() >= down+160
	})

	h.startBroker()
	h.waitLinksUp() // orchestrator/status online is retained across the restart
	up := h.ticks()
	// Two seconds of sim time connected without a fresh directive: they must
	// stay stopped (the retained route, seq 1, comes again and is a no-op).
	testkit.Eventually(t, 20*time.Second, "2 s of sim time connected after the restart", func() bool {
		return h.ticks() >= up+40
	})
	for _, r := range h.robots {
		rec := h.lastTick(r.spec.id)
		if rec.state != topics.StateFailsafe || !still(rec.lin, rec.ang) {
			t.Errorf("%s after the restart, before any fresh directive: state %q speed %v/%v, want failsafe and still",
				r.spec.id, rec.state, rec.lin, rec.ang)
		}
		for _, x := range h.cps.of(r.spec.id) {
			if x.gen == 2 && x.cp.Step > 1 {
				t.Errorf("%s: step %d reached after the restart without a fresh directive", r.spec.id, x.cp.Step)
			}
		}
	}

	h.resumed.Store(true)
	h.sendResume(2)
	h.waitFinals(40 * time.Second)

	for _, r := range h.robots {
		t.Run(r.spec.id, func(t *testing.T) {
			checkRoute(t, h.cps, r.spec.id, 1, r.spec.route)
			checkFailsafe(t, h.history(r.spec.id))
		})
	}
	// r1's step 1 was reached as the broker went down and refused there:
	// only the robot's outbox can have delivered it, to the new broker.
	for _, x := range h.cps.of("r1") {
		if x.cp.Step == 1 && x.gen != 2 {
			t.Errorf("r1 step 1 accepted by broker %d, want 2 (after the restart)", x.gen)
		}
	}
	if refused.Load() == 0 {
		t.Error("the dying broker refused nothing: the outage test did not run")
	}
	dups, bad := h.cps.duplicates()
	if len(bad) > 0 {
		t.Errorf("undecodable checkpoints: %v", bad)
	}
	if n := h.world.CollisionCount(); n != 0 {
		t.Errorf("%d collisions on routes that never cross", n)
	}
	t.Logf("outage %d ticks; %d checkpoint publishes refused by the dying broker; %d duplicate checkpoints deduped; sim time %v",
		up-down, refused.Load(), dups, h.world.Elapsed().Round(time.Millisecond))
}

// checkFailsafe checks one robot's tick history: a lost link halts the
// drive command within one control tick, and a robot whose link came back
// stays stopped until the fresh directive.
func checkFailsafe(t *testing.T, hist []tickRecord) {
	t.Helper()
	run, worst, up, lost, waited := 0, 0, false, false, 0
	lostAt, stillAt := -1, -1
	for i, rec := range hist {
		if !rec.connected {
			if !up {
				continue // not connected yet: nothing to lose
			}
			lost = true
			if lostAt < 0 {
				lostAt = i
			}
			if stillAt < 0 && still(rec.lin, rec.ang) {
				stillAt = i
			}
			// The monitor may see the link drop between a loop tick and
			// itself: one tick with the old command, never two.
			if rec.targetLin != 0 || rec.targetAng != 0 {
				run++
				worst = max(worst, run)
			} else {
				run = 0
			}
			continue
		}
		run = 0
		up = true
		if lost && rec.linkUp && !rec.afterResume {
			waited++
			if !still(rec.lin, rec.ang) || rec.targetLin != 0 || rec.targetAng != 0 {
				t.Errorf("moving after the reconnect without a fresh directive: %+v", rec)
				return
			}
		}
	}
	if !lost {
		t.Fatal("the link was never seen down")
	}
	// Braking from full speed takes 0.125 s of sim time (2.5 ticks): the
	// true speed is zero within 4 ticks of the loss, in sim time.
	if stillAt < 0 || stillAt-lostAt > 4 {
		t.Errorf("first link loss at tick %d, true speed zero at tick %d: want within 4 ticks", lostAt, stillAt)
	} else {
		t.Logf("link lost at tick %d; drive commanded to halt within %d tick(s); true speed zero %d ticks (%v sim) later",
			lostAt, worst, stillAt-lostAt, time.Duration(stillAt-lostAt)*controlPeriod)
	}
	if worst > 1 {
		t.Errorf("drive still commanded %d ticks after the link was lost, want at most 1", worst)
	}
	if waited < 40 {
		t.Errorf("only %d ticks observed connected before the resume, want >= 40", waited)
	}
}
