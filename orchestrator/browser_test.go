package main

import (
	"testing"

	"collaborate/orchestrator/web/webtest"
)

// TestDashboardInChromium runs the operator's scenario in a real headless
// Chromium against `orchestrator --sim 4` with the example missions: the
// page shows nothing before a login; logged in as the observer watch, four
// robots move on the page and a control is refused with a message; logged
// in as orchestrator, hold stops a robot (its pose stops changing) and
// resume moves it again. Screenshots go to the folder the test logs.
func TestDashboardInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	webtest.RequireChromium(t) // before the fleet starts
	dir := t.TempDir()
	r := start(t, dir, "--sim", "4", "--missions", "../deploy/missions.example.yaml")
	webtest.BrowserScenario(t, "http://"+r.addrs["http"], webtest.Accounts{
		Watcher: "watch", WatcherPass: initialPassword(t, dir, "watch"),
		Operator: "orchestrator", OperatorPass: initialPassword(t, dir, "orchestrator"),
	})
}
