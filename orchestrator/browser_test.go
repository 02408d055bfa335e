package main

import (
	"testing"

	"collaborate/orchestrator/web/webtest"
)

// TestDashboardInChromium runs the operator's scenario in a real headless
// Chromium against `orchestrator --sim 4` with the example missions: four
// robots move on the page; a control without a login is refused and the page
// says so; after logging in, hold stops a robot (its pose stops changing)
// and resume moves it again. Screenshots go to the folder the test logs.
func TestDashboardInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	if _, ok := webtest.Chromium(); !ok {
		if webtest.RequireTools() {
			t.Fatal("chromium is not installed (apt-get install chromium)")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	dir := t.TempDir()
	r := start(t, dir, "--sim", "4", "--missions", "../deploy/missions.example.yaml")
	webtest.BrowserScenario(t, "http://"+r.addrs["http"], "orchestrator", initialPassword(t, dir, "orchestrator"))
}
