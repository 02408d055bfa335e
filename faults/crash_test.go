package faults

import (
	"slices"
	"strings"
	"testing"
	"time"

	"collaborate/internal/testkit"
	"collaborate/orchestrator/core"
)

// The orchestrator, with its embedded broker, is killed (kill -9) while
// robots drive, and restarted on the same state dir. The world and the
// robot processes live on: the robots halt (their broker is gone), then
// reconnect, are resynchronised from the stored missions, and finish.
func TestOrchestratorCrash(t *testing.T) {
	t.Parallel()
	f := start(t, options{})
	f.midRoute()
	f.orch.Kill()
	crash := time.Now()
	time.Sleep(2 * time.Second)
	for _, id := range f.ids {
		if d, last := f.truth.travel(id, crash.Add(time.Second), time.Now()); d > 0.01 {
			t.Errorf("%s drove %.3f m (last move %v after the crash) while the orchestrator was down", id, d, last)
		}
	}
	f.startOrchestrator()
	f.waitDone()
	f.finish()
}

// mosquittoCrash kills a real mosquitto (kill -9) under the orchestrator's
// --broker mode for 8 s, optionally after it saved its state, optionally
// while a robot is held by the traffic control. Retained messages,
// sessions, queued directives and acknowledged checkpoints it had not
// delivered may all be lost: the orchestrator announces itself again, the
// robots resend what the orchestrator did not record, and the orchestrator
// resends what the robots did not apply.
func mosquittoCrash(t *testing.T, saved, whileHeld bool) {
	f := start(t, options{external: true})
	if whileHeld {
		f.waitFor(sim(300)+30*time.Second, "a robot held by the traffic control", func(v *core.FleetView) bool {
			for _, r := range v.Robots {
				for _, h := range r.Holds {
					if strings.HasPrefix(h, "traffic") {
						return true
					}
				}
			}
			return false
		})
	} else {
		f.midRoute()
	}
	if saved {
		if err := f.mosq.Save(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	f.mosq.Kill()
	crash := time.Now()
	time.Sleep(8 * time.Second)
	for _, id := range f.ids {
		if d, _ := f.truth.travel(id, crash.Add(time.Second), time.Now()); d > 0.01 {
			t.Errorf("%s drove %.3f m while the broker was down", id, d)
		}
	}
	f.mosq.Restart()
	f.waitDone()
	f.finish()
}

func TestMosquittoCrashBeforeAutosave(t *testing.T) { t.Parallel(); mosquittoCrash(t, false, false) }
func TestMosquittoCrashAfterAutosave(t *testing.T)  { t.Parallel(); mosquittoCrash(t, true, false) }
func TestMosquittoCrashWhileHeld(t *testing.T)      { t.Parallel(); mosquittoCrash(t, false, true) }

// SIGINT mid-mission: the orchestrator exits cleanly at once, and the
// ground truth shows every robot halted after it (orchestrator/status
// offline, then the heartbeat's silence). Restarted, it finishes the
// missions.
func TestInterruptAndRestart(t *testing.T) {
	t.Parallel()
	f := start(t, options{})
	f.midRoute()
	began := time.Now()
	if err := f.orch.Interrupt(5 * time.Second); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
	exited := time.Now()
	t.Logf("orchestrator exited %v after SIGINT", exited.Sub(began).Round(time.Millisecond))
	time.Sleep(3 * time.Second)
	for _, id := range f.ids {
		d, last := f.truth.travel(id, exited, time.Now())
		if last > time.Second {
			t.Errorf("%s still moved %v after the orchestrator exited (%.3f m)", id, last, d)
		}
	}
	f.startOrchestrator()
	f.waitDone()
	f.finish()
}

// An operator's stop survives a crash of the orchestrator: the restarted
// orchestrator resynchronises the stopped robot with a stop, never a
// resume, while the others carry on; the operator's resume lets it finish.
func TestOperatorStopSurvivesCrash(t *testing.T) {
	t.Parallel()
	f := start(t, options{})
	id := f.midRoute()
	f.post("/api/robots/" + id + "/stop")
	testkit.Eventually(t, 5*time.Second, id+" to halt", func() bool { return f.truth.speed(id) == 0 }, f.describe)
	stopped := time.Now()
	f.orch.Kill()
	time.Sleep(2 * time.Second)
	f.startOrchestrator()
	f.waitFor(sim(30)+10*time.Second, id+" resynchronised, still stopped", func(v *core.FleetView) bool {
		for _, r := range v.Robots {
			if r.ID == id {
				return r.Online && slices.Contains(r.Holds, "operator stop")
			}
		}
		return false
	})
	time.Sleep(sim(10))
	if d, last := f.truth.travel(id, stopped.Add(time.Second), time.Now()); d > 0.01 {
		t.Fatalf("%s, stopped by the operator, drove %.3f m (last move %v later) across the orchestrator's crash", id, d, last)
	}
	f.post("/api/robots/" + id + "/resume")
	f.waitDone()
	f.finish()
}
