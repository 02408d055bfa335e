package webtest

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"collaborate/internal/testkit"
)

// Chromium finds the browser: $CHROMIUM, /usr/bin/chromium, or chromium on
// PATH.
func Chromium() (string, bool) {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	p, err := exec.LookPath("chromium")
	return p, err == nil
}

// RequireChromium returns Chromium's path, or skips the test saying how to
// get it (fails under testkit.RequireTools).
func RequireChromium(t testing.TB) string {
	t.Helper()
	path, ok := Chromium()
	if !ok {
		testkit.Missing(t, "chromium not found (apt-get install chromium, or set $CHROMIUM)")
	}
	return path
}

// Browser is one headless Chromium tab for a test.
type Browser struct {
	Ctx context.Context
	Dir string // screenshots
	t   testing.TB
	n   int
}

// screenshotDir is shared by every browser of the test binary.
var screenshotDir string

// NewBrowser starts headless Chromium with a temporary profile; it skips
// the test when Chromium is missing, unless COLLABORATE_REQUIRE_TOOLS=1.
// The browser ends with the test.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	path := RequireChromium(t)
	if screenshotDir == "" {
		dir := os.Getenv("COLLABORATE_SCREENSHOTS")
		var err error
		if dir != "" {
			err = os.MkdirAll(dir, 0o755)
		} else {
			dir, err = os.MkdirTemp("", "collaborate-screenshots-")
		}
		if err != nil {
			t.Fatalf("screenshot directory: %v", err)
		}
		screenshotDir = dir
	}
	t.Logf("screenshots in %s", screenshotDir)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.WindowSize(1440, 960),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelC(); cancelA() })
	b := &Browser{Ctx: ctx, Dir: screenshotDir, t: t}
	// The first run starts the browser, which lives as long as that run's
	// context: it must be ctx itself, not one with a timeout.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 960)); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return b
}

// Run runs actions, failing the test on error.
func (b *Browser) Run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// Eval evaluates a JavaScript expression (promises awaited) in b's page.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browser: evaluate %s: %v", expr, err)
	}
	return v
}

// Shot saves a PNG of the page as NN-name.png and returns its path.
func (b *Browser) Shot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	b.n++
	p := filepath.Join(b.Dir, fmt.Sprintf("%s-%02d-%s.png", sanitize(b.t.Name()), b.n, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	b.t.Logf("screenshot %s", p)
	return p
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

// Eventually polls cond every 50 ms until it holds or timeout passes; then
// it fails with cond's last explanation.
func (b *Browser) Eventually(what string, timeout time.Duration, cond func() (bool, string)) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.Shot("failed")
			b.t.Fatalf("%s: not within %v: %s", what, timeout, why)
		}
		<-tick.C
	}
}

// RobotOnPage is a robot as the arena draws it.
type RobotOnPage struct {
	X, Y  float64
	State string
}

// Robots reads the robots drawn on the arena.
func (b *Browser) Robots() map[string]RobotOnPage {
	b.t.Helper()
	raw := Eval[map[string][]any](b, `Object.fromEntries([...document.querySelectorAll('#layer-robots .robot')].map(g => [g.dataset.robot, [+g.dataset.x, +g.dataset.y, g.dataset.state]]))`)
	out := make(map[string]RobotOnPage, len(raw))
	for id, v := range raw {
		if len(v) != 3 {
			continue
		}
		x, _ := v[0].(float64)
		y, _ := v[1].(float64)
		s, _ := v[2].(string)
		out[id] = RobotOnPage{X: x, Y: y, State: s}
	}
	return out
}

// CardState is the state shown on robot id's card.
func (b *Browser) CardState(id string) string {
	return Eval[string](b, fmt.Sprintf(`(document.querySelector('.robot-card[data-robot=%q]') || {dataset: {}}).dataset.state || ''`, id))
}

// Updates is how many snapshots the page has received.
func (b *Browser) Updates() int {
	return Eval[int](b, `+document.body.dataset.updates`)
}

// Notices are the messages shown to the operator, "kind: text".
func (b *Browser) Notices() []string {
	return Eval[[]string](b, `[...document.querySelectorAll('#notices .notice')].map(n => n.className.replace('notice ', '') + ': ' + n.querySelector('.msg').textContent)`)
}

// HasNotice reports whether a notice of kind contains text.
func (b *Browser) HasNotice(kind, text string) (bool, string) {
	ns := b.Notices()
	for _, n := range ns {
		if strings.HasPrefix(n, kind+": ") && strings.Contains(n, text) {
			return true, ""
		}
	}
	return false, fmt.Sprintf("notices %q lack a %s notice with %q", ns, kind, text)
}

// Click clicks the element matching a CSS selector, as the user would:
// the element's click(), in the page. (chromedp's DOM queries track every
// node change, and the live arena changes 20 times a second: on a loaded
// machine they fell minutes behind.)
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.Eventually("the element "+sel+" to click", 30*time.Second, func() (bool, string) {
		ok := Eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e || e.disabled || e.offsetParent === null) return false; e.scrollIntoView({block: 'nearest'}); e.click(); return true })()`, sel))
		return ok, sel + " is missing, hidden or disabled"
	})
}

// Login logs in through the page's form: it types user and password and
// presses the button.
func (b *Browser) Login(user, pass string) {
	b.t.Helper()
	Eval[bool](b, fmt.Sprintf(`(() => { document.querySelector('#login-user').value = %q; document.querySelector('#login-pass').value = %q; return true })()`, user, pass))
	b.Click("#login-submit")
}

// A held robot "stands still" when its drawn position moves less than
// StillM over 8 updates (estimates jitter a little); a robot "moves" once it
// is MovedM from where it was.
const (
	StillM = 0.03
	MovedM = 0.10
)

// StepTimeout bounds each step of the scenario; a real fleet needs time to
// map the arena before it moves.
var StepTimeout = 90 * time.Second

// Accounts are the users a scenario logs in as: a watcher (role observer)
// and an operator (operator or orchestrator).
type Accounts struct {
	Watcher, WatcherPass   string
	Operator, OperatorPass string
}

// BrowserScenario is the operator's acceptance test against a dashboard at
// baseURL with (at least) four robots on their missions:
//
//  0. before any login the page shows no robot and asks to log in, and the
//     API answers 401 to a read;
//  1. logged in as the watcher, the page shows four robots, and every one
//     with a mission moves;
//  2. the watcher's hold is refused: the page says so, and the API answers
//     403;
//  3. logged in as the operator, hold stops a moving robot (its card says
//     holding, its position stands still over several updates);
//  4. resume moves it again.
//
// It returns the logged-in browser for further steps, and the robot it held.
func BrowserScenario(t *testing.T, baseURL string, acc Accounts) (*Browser, string) {
	t.Helper()
	b := NewBrowser(t)
	b.Run(chromedp.Navigate(baseURL + "/"))

	b.Eventually("the page to ask for a login", 15*time.Second, func() (bool, string) {
		return b.HasNotice("login", "log in to watch the fleet")
	})
	if n := len(b.Robots()); n != 0 {
		t.Errorf("the page shows %d robots before any login", n)
	}
	if status := Eval[int](b, `fetch('/api/fleet').then(r => r.status)`); status != 401 {
		t.Errorf("GET /api/fleet without a login answered %d, want 401", status)
	}
	b.Shot("login-to-watch")
	b.Login(acc.Watcher, acc.WatcherPass)
	b.Eventually("logged in as the watcher", 15*time.Second, func() (bool, string) {
		u := Eval[string](b, `document.body.dataset.user`)
		return u == acc.Watcher, fmt.Sprintf("page user %q; notices %q", u, b.Notices())
	})

	b.Eventually("four robots on the arena", StepTimeout, func() (bool, string) {
		rs := b.Robots()
		return len(rs) >= 4, fmt.Sprintf("the arena shows %d robots: %v", len(rs), rs)
	})
	// Every robot with a mission left must move; one without stays put.
	first := b.Robots()
	var expect []string
	b.Eventually("robots with a mission", StepTimeout, func() (bool, string) {
		expect = Eval[[]string](b, `[...document.querySelectorAll('.robot-card')].filter(c => +c.dataset.remaining > 0).map(c => c.dataset.robot).sort()`)
		return len(expect) > 0, "no robot has a mission"
	})
	moved := map[string]bool{}
	b.Eventually("every robot with a mission moves", StepTimeout, func() (bool, string) {
		for id, r := range b.Robots() {
			if f, ok := first[id]; ok && dist(f, r) > MovedM {
				moved[id] = true
			}
		}
		missing := []string{}
		for _, id := range expect {
			if !moved[id] {
				missing = append(missing, id)
			}
		}
		return len(missing) == 0, fmt.Sprintf("not moved yet: %v (moved %v)", missing, keys(moved))
	})
	t.Logf("robots seen moving: %v", keys(moved))
	b.Shot("moving")

	// Hold the moving robot with the most of its mission left, so that it
	// is still on its way when resumed.
	var target string
	b.Eventually("a robot moving to hold", StepTimeout, func() (bool, string) {
		target = Eval[string](b, `(() => {
			const cs = [...document.querySelectorAll('.robot-card[data-state="moving"]')];
			cs.sort((a, b) => (+b.dataset.remaining - +a.dataset.remaining) || a.dataset.robot.localeCompare(b.dataset.robot));
			return cs.length ? cs[0].dataset.robot : '';
		})()`)
		return target != "", fmt.Sprintf("no robot is moving: %v", b.Robots())
	})
	holdBtn := fmt.Sprintf(`.robot-card[data-robot=%q] button[data-act="hold"]`, target)
	resumeBtn := fmt.Sprintf(`.robot-card[data-robot=%q] button[data-act="resume"]`, target)

	// The watcher may not control: refused, and said so.
	b.Click(holdBtn)
	b.Eventually("the refusal of the watcher's hold", 10*time.Second, func() (bool, string) {
		return b.HasNotice("login", "log in as an operator to control the fleet")
	})
	status := Eval[int](b, fmt.Sprintf(`fetch('/api/robots/%s/hold', {method: 'POST'}).then(r => r.status)`, target))
	if status != 403 {
		t.Errorf("the watcher's POST /api/robots/%s/hold answered %d, want 403", target, status)
	}
	if s := b.CardState(target); s == "holding" {
		t.Errorf("%s is holding after a refused hold", target)
	}
	b.Shot("refused")

	b.Login(acc.Operator, acc.OperatorPass)
	b.Eventually("logged in", 15*time.Second, func() (bool, string) {
		u := Eval[string](b, `document.body.dataset.user`)
		ok, why := b.HasNotice("error", "log in")
		if ok {
			return false, "login refused: " + strings.Join(b.Notices(), "; ")
		}
		return u == acc.Operator, fmt.Sprintf("page user %q; %s", u, why)
	})

	b.Click(holdBtn)
	b.Eventually(target+" holding", StepTimeout, func() (bool, string) {
		s := b.CardState(target)
		return s == "holding", fmt.Sprintf("%s is %q; notices %q", target, s, b.Notices())
	})
	var held RobotOnPage
	b.Eventually(target+" stands still", StepTimeout, func() (bool, string) {
		p1 := b.Robots()[target]
		u1 := b.Updates()
		b.Eventually("page updates", StepTimeout, func() (bool, string) {
			return b.Updates() >= u1+8, "waiting for 8 snapshots"
		})
		p2 := b.Robots()[target]
		held = p2
		return dist(p1, p2) < StillM, fmt.Sprintf("%s moved %.3f m over 8 updates while held", target, dist(p1, p2))
	})
	b.Shot("held")

	b.Click(resumeBtn)
	b.Eventually(target+" moves again", StepTimeout, func() (bool, string) {
		r := b.Robots()[target]
		// A robot held a few centimetres from its park spot finishes
		// without moving visibly: done after the resume is carrying on.
		return r.State != "holding" && (dist(held, r) > MovedM || r.State == "done"),
			fmt.Sprintf("%s is %q, %.3f m from where it was held; notices %q", target, r.State, dist(held, r), b.Notices())
	})
	b.Shot("resumed")
	return b, target
}

func dist(a, b RobotOnPage) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }

func keys(m any) []string {
	var out []string
	switch m := m.(type) {
	case map[string]bool:
		for k := range m {
			out = append(out, k)
		}
	case map[string]RobotOnPage:
		for k := range m {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
