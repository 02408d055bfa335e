package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"collaborate/orchestrator/api"
	"collaborate/orchestrator/core"
	"collaborate/orchestrator/web"
	"collaborate/orchestrator/web/webtest"
)

// startFake serves the dashboard and the real API over a fake fleet of
// four moving robots, on 127.0.0.1.
func startFake(t *testing.T) (string, *webtest.FakeFleet) {
	t.Helper()
	var hub *web.Hub
	fake := webtest.NewFakeFleet(4, func(topic string, payload []byte) { hub.Notify(topic, payload) })
	s, err := web.New(web.Options{Source: fake, Verifier: users})
	if err != nil {
		t.Fatal(err)
	}
	hub = s.Hub()
	mux := http.NewServeMux()
	s.Register(mux)
	apiMux := http.NewServeMux()
	api.Register(apiMux, fake)
	mux.Handle("/api/", s.RequireOperator(apiMux))
	srv := httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	go hub.Run(ctx)
	go fake.Run(ctx, 50*time.Millisecond)
	t.Cleanup(func() { cancel(); srv.Close() })
	return srv.URL, fake
}

var _ api.Controller = (*webtest.FakeFleet)(nil)
var _ web.Source = (*webtest.FakeFleet)(nil)

// TestBrowser runs the operator's scenario in headless Chromium against
// the fake fleet, then the rest of the controls.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	base, fake := startFake(t)
	b, held := webtest.BrowserScenario(t, base, webtest.Accounts{Watcher: "watch", WatcherPass: "w-pass", Operator: "op", OperatorPass: "secret"})

	// The fake saw exactly the calls the page made: the refused hold
	// never reached it.
	calls := fake.Calls()
	if want := []string{"hold " + held, "resume " + held}; !slices.Equal(calls, want) {
		t.Errorf("API calls %q, want %q", calls, want)
	}

	setRoute := func(id, text string) {
		t.Helper()
		webtest.Eval[bool](b, fmt.Sprintf(`(() => { const i = document.querySelector('.robot-card[data-robot=%q] input.route'); i.value = %q; i.dispatchEvent(new Event('input')); return true })()`, id, text))
		b.Click(fmt.Sprintf(`.robot-card[data-robot=%q] button[data-act="mission"]`, id))
	}
	errorShown := func(what, text string) {
		t.Helper()
		b.Eventually(what, 10*time.Second, func() (bool, string) { return b.HasNotice("error", text) })
	}

	t.Run("API error is shown", func(t *testing.T) {
		setRoute("r3", "0, 99")
		errorShown("the 422 of a marker not on the map", "(422): marker not on the map")
		b.Shot("route-error")
	})
	t.Run("route typo caught", func(t *testing.T) {
		setRoute("r3", "4, x")
		errorShown("a route that is not a list of ids", "is not a list of marker ids")
	})
	t.Run("route set", func(t *testing.T) {
		setRoute("r3", "4 10")
		b.Eventually("r3's new route", 10*time.Second, func() (bool, string) {
			calls := fake.Calls()
			return slices.Contains(calls, "mission r3"), fmt.Sprintf("calls %q", calls)
		})
		b.Eventually("the route shown", 10*time.Second, func() (bool, string) {
			v := webtest.Eval[string](b, `document.querySelector('.robot-card[data-robot="r3"] input.route').value`)
			return v == "4, 10", fmt.Sprintf("route input %q", v)
		})
	})
	t.Run("missions file uploaded", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missions.yaml")
		yaml := "arena: {diameter_m: 3}\nrobots:\n  r1: {route: [0, 6]}\n  r9: {route: [1]}\n"
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		b.Run(chromedp.SetUploadFiles(chromedp.CSS("#missions-file"), []string{path}))
		errorShown("the unknown robot's 404", "route of r9 from missions.yaml failed (404)")
		errorShown("the upload's summary", "missions file missions.yaml: 1 of 2 routes set")
		if !slices.Contains(fake.Calls(), "mission r1") {
			t.Errorf("r1's route was not PUT: calls %q", fake.Calls())
		}
	})
	t.Run("sweep refusal shown", func(t *testing.T) {
		b.Click("#sweep")
		errorShown("the sweep's 409", "stop the fleet before a sweep")
	})
	t.Run("stop all and resume all", func(t *testing.T) {
		b.Click("#stop-all")
		b.Eventually("fleet stopped", 10*time.Second, func() (bool, string) {
			hidden := webtest.Eval[bool](b, `document.querySelector('#fleetstate').hidden`)
			rs := b.Robots()
			for id, r := range rs {
				if r.State != "holding" {
					return false, fmt.Sprintf("%s is %s", id, r.State)
				}
			}
			return !hidden && len(rs) == 4, "the FLEET STOPPED pill is hidden"
		})
		b.Shot("fleet-stopped")
		b.Click("#resume-all")
		b.Eventually("fleet resumed", 10*time.Second, func() (bool, string) {
			hidden := webtest.Eval[bool](b, `document.querySelector('#fleetstate').hidden`)
			return hidden && b.CardState("r1") == "moving", fmt.Sprintf("pill hidden %v, r1 %s", hidden, b.CardState("r1"))
		})
	})
	t.Run("logout hides the fleet and refuses controls", func(t *testing.T) {
		webtest.Eval[bool](b, `(document.querySelector('#notices').replaceChildren(), true)`)
		b.Click("#logout")
		b.Eventually("logged out", 10*time.Second, func() (bool, string) {
			return webtest.Eval[string](b, `document.body.dataset.user`) == "", "still logged in"
		})
		b.Eventually("the fleet hidden and a login asked for", 10*time.Second, func() (bool, string) {
			n := len(b.Robots()) + webtest.Eval[int](b, `document.querySelectorAll('.robot-card').length`)
			ok, why := b.HasNotice("login", "log in to watch the fleet")
			return ok && n == 0, fmt.Sprintf("%d robots and cards still shown; %s", n, why)
		})
		for _, c := range []struct{ method, path string }{{"POST", "/api/robots/r4/stop"}, {"GET", "/api/fleet"}} {
			if st := webtest.Eval[int](b, fmt.Sprintf(`fetch(%q, {method: %q}).then(r => r.status)`, c.path, c.method)); st != 401 {
				t.Errorf("%s %s after logout: %d, want 401", c.method, c.path, st)
			}
		}
		if slices.Contains(fake.Calls(), "stop r4") {
			t.Error("a stop without login reached the fleet")
		}
		b.Shot("logged-out")
	})
	t.Run("wrong password shown", func(t *testing.T) {
		b.Login("op", "wrong")
		errorShown("the login refusal", "wrong user or password")
		b.Shot("login-refused")
	})
	t.Run("screenshot of the working dashboard", func(t *testing.T) {
		b.Login("op", "secret")
		b.Eventually("logged in", 10*time.Second, func() (bool, string) {
			return webtest.Eval[string](b, `document.body.dataset.user`) == "op", "not logged in"
		})
		webtest.Eval[bool](b, `(document.querySelector('#notices').replaceChildren(), true)`)
		b.Click(`.robot-card[data-robot="r2"] button[data-act="hold"]`)
		b.Eventually("r2 holding", 10*time.Second, func() (bool, string) { return b.CardState("r2") == "holding", b.CardState("r2") })
		b.Shot("dashboard")
	})
}

// TestBrowserNoMap is the first minutes of a real run: no map yet, robots
// known from the missions but not localised, one offline.
func TestBrowserNoMap(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	src := &staticSource{v: core.FleetView{Epoch: 2, Mapper: "r1", Robots: []core.RobotView{
		{ID: "r1", Online: true, State: "mapping", Mapping: true, Route: []int{0, 6, 3}},
		{ID: "r2", Online: false, OfflineReason: "never seen", Route: []int{9, 3}},
	}}}
	s, err := web.New(web.Options{Source: src, AnonymousRead: true})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	srv := httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	go s.Hub().Run(ctx)
	t.Cleanup(func() { cancel(); srv.Close() })

	b := webtest.NewBrowser(t)
	b.Run(chromedp.Navigate(srv.URL + "/"))
	checks := []struct{ name, expr, want string }{
		{"no map said", `document.querySelector('#layer-static .nomap')?.textContent || ''`, "no marker map yet: run the map sweep"},
		{"sweep in progress", `document.querySelector('#arena-info').textContent`, "⌀ 3.00 m · no map · r1 is sweeping"},
		{"mapper state", `document.querySelector('.robot-card[data-robot="r1"] .state').textContent`, "mapping"},
		{"offline state", `document.querySelector('.robot-card[data-robot="r2"]').dataset.state`, "offline"},
		{"offline reason", `document.querySelector('.robot-card[data-robot="r2"] .flags').textContent`, "never seen"},
		{"no position", `document.querySelector('.robot-card[data-robot="r1"] .kv').textContent`, "position unknown"},
		{"nothing drawn", `String(document.querySelectorAll('#layer-robots .robot').length)`, "0"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			b.Eventually(c.name, 10*time.Second, func() (bool, string) {
				got := webtest.Eval[string](b, `(() => { try { return `+c.expr+` } catch (e) { return 'error: ' + e } })()`)
				return got == c.want, fmt.Sprintf("got %q, want %q", got, c.want)
			})
		})
	}
	b.Shot("no-map")
}
