package faults

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"collaborate/internal/testkit"
)

// The Python example robot (examples/python-robot), written from the
// contract alone, drives its mission in a fleet with three Go robots, the
// orchestrator and its embedded broker, in the world served to robot
// processes: every mission done, 0 collisions in the world's truth, each
// robot's checkpoints recorded once and in order. Not in parallel with
// the other fleets: one more would load the machine they share.
func TestPythonRobotInFleet(t *testing.T) {
	testkit.PythonWithPaho(t)
	f := start(t, options{python: []string{"r4"}})
	f.waitDone()
	f.finish()
}

// A broker that keeps every connection but routes no orchestrator
// heartbeat (mosquitto reloaded, as the fleet starts, with an ACL that
// lacks its read rule): no robot drives, and every robot, the Python
// example among them, reconnects after ten seconds without a heartbeat
// (backing off while none comes). Once the ACL is mended and reloaded, the
// fleet carries on by itself and every mission ends. (Mid-route, the
// stop and restart can end in a head-on that two robots settle only after
// minutes, or not at all: the README's known limit.)
func TestDeafBrokerStopsThenFleetCarriesOn(t *testing.T) {
	testkit.PythonWithPaho(t)
	f := start(t, options{external: true, python: []string{"r4"}})
	root, err := testkit.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(root, "deploy/mosquitto/acl"))
	if err != nil {
		t.Fatal(err)
	}
	deaf := f.path("acl-deaf")
	var kept []string
	for _, l := range strings.Split(string(good), "\n") {
		if strings.TrimSpace(l) != "pattern read orchestrator/heartbeat" {
			kept = append(kept, l)
		}
	}
	if len(kept) == len(strings.Split(string(good), "\n")) {
		t.Fatal("deploy/mosquitto/acl has no rule for the orchestrator heartbeat")
	}
	if err := os.WriteFile(deaf, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	connects := func(id string) int { return strings.Count(f.mosq.Logs.String(), " as "+id+" ") }
	testkit.Eventually(t, 30*time.Second, "every robot to connect", func() bool {
		for _, id := range f.ids {
			if connects(id) == 0 {
				return false
			}
		}
		return true
	}, func() string { return testkit.Tail(f.mosq.Logs.String(), 40) })
	before := map[string]int{}
	for _, id := range f.ids {
		before[id] = connects(id)
	}
	if err := f.mosq.SetACL(deaf); err != nil {
		t.Fatal(err)
	}
	deafAt := time.Now()
	time.Sleep(3 * time.Second)
	for _, id := range f.ids {
		if d, _ := f.truth.travel(id, deafAt.Add(2*time.Second), time.Now()); d > 0.01 {
			t.Errorf("%s drove %.3f m without an orchestrator heartbeat", id, d)
		}
	}
	testkit.Eventually(t, 30*time.Second, "every robot to reconnect for want of a heartbeat", func() bool {
		for _, id := range f.ids {
			if connects(id) <= before[id] {
				return false
			}
		}
		return true
	}, func() string { return testkit.Tail(f.mosq.Logs.String(), 40) })
	if err := f.mosq.SetACL(filepath.Join(root, "deploy/mosquitto/acl")); err != nil {
		t.Fatal(err)
	}
	f.waitDone()
	f.finish()
}
