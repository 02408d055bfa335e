package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"collaborate/internal/testkit"
	"collaborate/orchestrator/core"
	"collaborate/orchestrator/store"
	"collaborate/robot/world"
	"collaborate/topics"
)

var speed = flag.Float64("faults.speed", 2, "sim seconds per wall second of the world (1: real time)")

// bins are the binaries under test, built once.
var bins map[string]string

// root is the module's directory.
var root string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "collaborate-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if root, err = testkit.ModuleRoot(); err == nil {
		bins, err = testkit.Build(dir, "./orchestrator", "./robot")
	}
	if err == nil && withOpenCV {
		bins["./robot opencv"] = filepath.Join(dir, "robot-opencv")
		err = testkit.BuildWith(bins["./robot opencv"], "./robot", "-tags", "opencv")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// options of one fleet.
type options struct {
	robots   int    // r1..rN, default 4
	missions string // default deploy/missions.example.yaml
	external bool   // a real mosquitto and the orchestrator's --broker mode
	// nats: a 3-node NATS cluster instead (deploy/nats/); robots dial
	// node 1 first, the orchestrator node 2, each with the whole list.
	nats bool
	// robotConfig, when set, is a robot config file's YAML for every robot.
	robotConfig string
	// accounts are more robot accounts, for clients the test runs itself.
	accounts []string
	// speed overrides -faults.speed; seed is the world's (default 7).
	speed float64
	seed  int64
	// robotArgs are more flags for every robot process (e.g. --camera
	// render), and robotBin the robot binary (default the plain build).
	robotArgs []string
	robotBin  string
	// python are robots that run the Python example robot
	// (examples/python-robot) instead of the Go robot.
	python []string
}

// fleet is one running system: world, broker, orchestrator, robots.
type fleet struct {
	t        *testing.T
	o        options
	dir      string
	ids      []string
	world    *testkit.Proc
	wAddr    string
	orch     *testkit.Proc
	orchArgs []string
	httpAddr string
	mqttAddr string // the broker the robots' proxies lead to
	mosq     *testkit.Mosquitto
	cluster  *testkit.NATSCluster
	robots   map[string]*testkit.Proc
	proxies  map[string]*toxiproxy.Proxy
	tox      *toxiproxy.ApiServer
	truth    *truthLog
	http     *http.Client
	runs     int // orchestrator starts
}

const (
	operator     = "op"
	operatorPass = "op-secret-pw"
)

func password(id string) string { return id + "-secret-pw" }

// start brings up a fleet and waits until every robot process runs.
func start(t *testing.T, o options) *fleet {
	t.Helper()
	if o.robots == 0 {
		o.robots = 4
	}
	if o.missions == "" {
		o.missions = filepath.Join(root, "deploy/missions.example.yaml")
	}
	if o.speed == 0 {
		o.speed = *speed
	}
	if o.seed == 0 {
		o.seed = 7
	}
	if o.robotBin == "" {
		o.robotBin = bins["./robot"]
	}
	jar, _ := cookiejar.New(nil)
	// Not t.TempDir: a failing run keeps its processes' logs.
	dir, err := os.MkdirTemp("", "faults-"+strings.ReplaceAll(t.Name(), "/", "_")+"-")
	if err != nil {
		t.Fatal(err)
	}
	f := &fleet{t: t, o: o, dir: dir, robots: map[string]*testkit.Proc{}, proxies: map[string]*toxiproxy.Proxy{},
		truth: &truthLog{}, http: &http.Client{Jar: jar, Timeout: 5 * time.Second}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("process logs are in %s", f.dir)
			return
		}
		os.RemoveAll(f.dir)
	})
	for k := 1; k <= o.robots; k++ {
		f.ids = append(f.ids, fmt.Sprintf("r%d", k))
	}
	for _, id := range f.ids {
		if err := os.WriteFile(f.path(id+".pw"), []byte(password(id)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The world first: robots claim their bodies in it.
	f.world = testkit.Start(t, f.dir, "world", bins["./robot"], "world", "--addr", "127.0.0.1:0",
		"--robots", strconv.Itoa(o.robots), "--seed", strconv.FormatInt(o.seed, 10),
		"--speed", strconv.FormatFloat(o.speed, 'g', -1, 64), "--log-format", "json")
	f.world.WaitOutput(t, 10*time.Second, "ready")
	f.wAddr = f.world.Field("world listening on ")
	go func() { _ = world.Watch(f.wAddr, f.truth.add) }()

	f.httpAddr = testkit.FreeAddr(t)
	creds := f.path("state", "credentials.yaml")
	if err := os.MkdirAll(f.path("state"), 0o700); err != nil {
		t.Fatal(err)
	}
	f.passwd(creds, "operator", operator, operatorPass)
	switch {
	case o.nats:
		f.startNATS(creds)
	case o.external:
		f.startMosquitto()
	default:
		f.mqttAddr = testkit.FreeAddr(t)
		for _, id := range append(slices.Clone(f.ids), o.accounts...) {
			f.passwd(creds, "robot", id, password(id))
		}
		f.orchArgs = []string{"--state-dir", f.path("state"), "--mqtt-addr", f.mqttAddr}
	}
	f.orchArgs = append(f.orchArgs, "--http-addr", f.httpAddr, "--missions", o.missions, "--log-format", "json")
	f.firstOrchestrator()

	f.tox = toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	for _, id := range f.ids {
		if o.nats {
			f.startRobot(id) // straight to the cluster's nodes
			continue
		}
		p := toxiproxy.NewProxy(f.tox, id, "127.0.0.1:0", f.mqttAddr)
		if err := p.Start(); err != nil {
			t.Fatalf("proxy for %s: %v", id, err)
		}
		t.Cleanup(p.Stop)
		f.proxies[id] = p
		f.startRobot(id)
	}
	return f
}

func (f *fleet) path(parts ...string) string {
	return filepath.Join(append([]string{f.dir}, parts...)...)
}

// passwd adds an account with `orchestrator passwd`, as a user does.
func (f *fleet) passwd(file, role, user, pass string) {
	f.t.Helper()
	cmd := exec.Command(bins["./orchestrator"], "passwd", "--credentials", file, "--role", role, user)
	cmd.Stdin = strings.NewReader(pass + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		f.t.Fatalf("orchestrator passwd %s: %v\n%s", user, err, out)
	}
}

func (f *fleet) startMosquitto() {
	f.t.Helper()
	users := map[string]string{"orchestrator": "orch-secret-pw"}
	for _, id := range f.ids {
		users[id] = password(id)
	}
	pw := f.path("mosquitto.passwd")
	testkit.MosquittoPasswd(f.t, pw, users)
	f.mosq = testkit.StartMosquitto(f.t, root, f.dir, pw, "")
	f.mqttAddr = f.mosq.Addr
	if err := os.WriteFile(f.path("orchestrator.pw"), []byte("orch-secret-pw\n"), 0o600); err != nil {
		f.t.Fatal(err)
	}
	f.orchArgs = []string{"--state-dir", f.path("state"), "--broker", f.mosq.URL, "--username", "orchestrator",
		"--password-file", f.path("orchestrator.pw")}
}

// startNATS starts a 3-node NATS cluster whose users are the accounts of
// the orchestrator's credentials file (orchestrator nats-auth), as a user
// sets one up from deploy/nats/: the orchestrator, the robots, and an
// observer.
func (f *fleet) startNATS(creds string) {
	f.t.Helper()
	f.passwd(creds, "orchestrator", "orchestrator", "orch-secret-pw")
	f.passwd(creds, "observer", "watch", "watch-secret-pw")
	for _, id := range append(slices.Clone(f.ids), f.o.accounts...) {
		f.passwd(creds, "robot", id, password(id))
	}
	auth := f.path("nats-auth.conf")
	if out, err := exec.Command(bins["./orchestrator"], "nats-auth", "--credentials", creds, "--out", auth).CombinedOutput(); err != nil {
		f.t.Fatalf("orchestrator nats-auth: %v\n%s", err, out)
	}
	f.cluster = testkit.StartNATSCluster(f.t, root, f.path("nats"), auth)
	if err := os.WriteFile(f.path("orchestrator.pw"), []byte("orch-secret-pw\n"), 0o600); err != nil {
		f.t.Fatal(err)
	}
	f.orchArgs = []string{"--state-dir", f.path("state"), "--broker", f.cluster.URLs(1, 2, 0), "--username", "orchestrator",
		"--password-file", f.path("orchestrator.pw")}
}

// robotBroker is the broker URL robot id dials: its fault proxy, or the
// NATS cluster's nodes, node 1 first.
func (f *fleet) robotBroker(id string) string {
	if f.cluster != nil {
		return f.cluster.URLs(0, 1, 2)
	}
	return "tcp://" + f.proxies[id].Listen
}

// startOrchestrator starts (or restarts) the orchestrator on the same
// ports and state dir, and logs the test's HTTP client in: reading the
// fleet needs a login, and sessions do not survive a restart.
func (f *fleet) startOrchestrator() {
	f.t.Helper()
	f.runs++
	f.orch = testkit.Start(f.t, f.dir, fmt.Sprintf("orchestrator-%d", f.runs), bins["./orchestrator"], f.orchArgs...)
	f.orch.WaitOutput(f.t, 15*time.Second, "ready")
	f.login()
}

// firstOrchestrator starts the orchestrator the first time. Its ports were
// free when chosen, but a process running beside the test may take one
// before the orchestrator binds it: then it takes new ones (nothing dials
// them yet) and tries again.
func (f *fleet) firstOrchestrator() {
	f.t.Helper()
	for attempt := 1; ; attempt++ {
		f.runs++
		f.orch = testkit.Start(f.t, f.dir, fmt.Sprintf("orchestrator-%d", f.runs), bins["./orchestrator"], f.orchArgs...)
		deadline := time.Now().Add(15 * time.Second)
		for f.orch.Running() && !f.orch.Out.Contains("ready") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if f.orch.Running() || attempt == 3 || !strings.Contains(f.orch.Err.String(), "address already in use") {
			break
		}
		f.t.Logf("orchestrator: a port was taken before it bound it; new ports:\n%s", testkit.Tail(f.orch.Err.String(), 3))
		for i, a := range f.orchArgs {
			switch {
			case a == "--http-addr":
				f.httpAddr = testkit.FreeAddr(f.t)
				f.orchArgs[i+1] = f.httpAddr
			case a == "--mqtt-addr":
				f.mqttAddr = testkit.FreeAddr(f.t)
				f.orchArgs[i+1] = f.mqttAddr
			}
		}
	}
	f.orch.WaitOutput(f.t, 15*time.Second, "ready")
	f.login()
}

// startRobot starts (or restarts) robot id's process, through its proxy.
func (f *fleet) startRobot(id string) {
	f.t.Helper()
	args := []string{"--hw", "sitl", "--world", f.wAddr, "--id", id, "--broker", f.robotBroker(id),
		"--password-file", f.path(id + ".pw"), "--store-dir", f.path("outbox-" + id), "--log-format", "json"}
	for _, a := range f.o.robotArgs {
		args = append(args, strings.ReplaceAll(strings.ReplaceAll(a, "{id}", id), "{dir}", f.dir))
	}
	if f.o.robotConfig != "" {
		cfg := f.path("robot.yaml")
		if err := os.WriteFile(cfg, []byte(f.o.robotConfig), 0o600); err != nil {
			f.t.Fatal(err)
		}
		args = append(args, "--config", cfg)
	}
	n := 1
	if old := f.robots[id]; old != nil {
		n = strings.Count(old.Name, "+") + 2
	}
	name := id + strings.Repeat("+", n-1)
	if slices.Contains(f.o.python, id) {
		py := testkit.PythonWithPaho(f.t)
		f.robots[id] = testkit.Start(f.t, f.dir, name, py, filepath.Join(root, "examples/python-robot/robot.py"),
			"--id", id, "--broker", "tcp://"+f.proxies[id].Listen, "--password-file", f.path(id+".pw"), "--world", f.wAddr)
		return
	}
	f.robots[id] = testkit.Start(f.t, f.dir, name, f.o.robotBin, args...)
}

// metrics is GET /metrics.
func (f *fleet) metrics() string {
	resp, err := f.http.Get("http://" + f.httpAddr + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// fleetView is GET /api/fleet; nil while the orchestrator does not answer.
func (f *fleet) fleetView() *core.FleetView {
	resp, err := f.http.Get("http://" + f.httpAddr + "/api/fleet")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var v core.FleetView
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&v) != nil {
		return nil
	}
	return &v
}

func (f *fleet) describe() string {
	v := f.fleetView()
	if v == nil {
		return "GET /api/fleet: no answer"
	}
	var b strings.Builder
	for _, r := range v.Robots {
		fmt.Fprintf(&b, "%s online=%v state=%s reached=%d/%d released=%d holds=%v\n", r.ID, r.Online, r.State, r.Reached, len(r.Route), r.Released, r.Holds)
	}
	fmt.Fprintf(&b, "stats: resyncs=%d offline_by_will=%d offline_by_silence=%d stale=%d\n", v.Stats.Resyncs, v.Stats.OfflineByWill, v.Stats.OfflineBySilence, v.Stats.Stale)
	fmt.Fprintf(&b, "truth: %s", f.truth.summary())
	return b.String()
}

// waitFor polls the fleet view until cond holds.
func (f *fleet) waitFor(timeout time.Duration, what string, cond func(*core.FleetView) bool) {
	f.t.Helper()
	testkit.Eventually(f.t, timeout, what, func() bool {
		v := f.fleetView()
		return v != nil && cond(v)
	}, f.describe)
}

// sim converts sim seconds to wall time at -faults.speed.
func sim(seconds float64) time.Duration {
	return time.Duration(seconds / *speed * float64(time.Second))
}

// wall converts sim seconds to wall time at this fleet's speed.
func (f *fleet) wall(seconds float64) time.Duration {
	return time.Duration(seconds / f.o.speed * float64(time.Second))
}

// waitDone waits until every mission is done.
func (f *fleet) waitDone() {
	f.t.Helper()
	f.waitFor(f.wall(400)+30*time.Second, "every mission done", func(v *core.FleetView) bool {
		done := 0
		for _, r := range v.Robots {
			if r.Done {
				done++
			}
		}
		return done == len(f.ids)
	})
}

// midRoute waits until some robot has reached a checkpoint and drives on.
func (f *fleet) midRoute() string {
	f.t.Helper()
	var id string
	f.waitFor(f.wall(300)+30*time.Second, "a robot driving after its first checkpoint", func(v *core.FleetView) bool {
		for _, r := range v.Robots {
			if r.Reached >= 1 && !r.Done && r.State == topics.StateMoving && f.truth.speed(r.ID) > 0.05 {
				id = r.ID
				return true
			}
		}
		return false
	})
	return id
}

// login logs the test's HTTP client in as the operator: its session reads
// the fleet and controls it.
func (f *fleet) login() {
	f.t.Helper()
	body := fmt.Sprintf(`{"user":%q,"password":%q}`, operator, operatorPass)
	resp, err := f.http.Post("http://"+f.httpAddr+"/login", "application/json", strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		f.t.Fatalf("login: %s: %s", resp.Status, b)
	}
}

// post calls an operator endpoint of the API.
func (f *fleet) post(path string) {
	f.t.Helper()
	resp, err := f.http.Post("http://"+f.httpAddr+path, "application/json", bytes.NewReader(nil))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		f.t.Fatalf("POST %s: %s: %s", path, resp.Status, b)
	}
}

// finish checks the end state: 0 collisions, the orchestrator stops cleanly
// on SIGINT and every robot halts after it, and each mission's checkpoints
// are recorded once and in order.
func (f *fleet) finish() {
	f.t.Helper()
	if n := f.truth.collisions(); n != 0 {
		f.t.Errorf("%d collisions\n%s", n, f.describe())
	}
	if v := f.fleetView(); v != nil {
		last, _ := f.truth.last()
		f.t.Logf("done at sim %.1f s: %d resyncs, %d duplicate checkpoints, offline by will %d, by silence %d, %d stale directives",
			last.World.SimTimeS, v.Stats.Resyncs, v.Stats.Duplicates, v.Stats.OfflineByWill, v.Stats.OfflineBySilence, v.Stats.Stale)
	}
	if err := f.orch.Interrupt(10 * time.Second); err != nil {
		f.t.Errorf("orchestrator on SIGINT: %v", err)
	}
	st, err := store.Open(f.path("state", "orchestrator.db"))
	if err != nil {
		f.t.Fatal(err)
	}
	defer st.Close()
	missions, err := st.Missions()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, id := range f.ids {
		m := missions[id]
		if m == nil {
			f.t.Errorf("%s: no mission in the store", id)
			continue
		}
		var steps []int
		for _, r := range m.Log {
			steps = append(steps, r.Step)
		}
		want := make([]int, len(m.Route))
		for i := range want {
			want[i] = i
		}
		if fmt.Sprint(steps) != fmt.Sprint(want) || !m.Done() {
			f.t.Errorf("%s: checkpoints recorded for steps %v of route %v, want each step once, in order: %v", id, steps, m.Route, want)
		}
	}
}

// toxic adds a toxic to robot id's link, both ways unless stream says.
func (f *fleet) toxic(id, name, typ, stream, attrs string) {
	f.t.Helper()
	streams := []string{"upstream", "downstream"}
	if stream != "" {
		streams = []string{stream}
	}
	for _, st := range streams {
		js := fmt.Sprintf(`{"name":"%s_%s","type":%q,"stream":%q,"attributes":%s}`, name, st, typ, st, attrs)
		if _, err := f.proxies[id].Toxics.AddToxicJson(strings.NewReader(js)); err != nil {
			f.t.Fatalf("toxic %s on %s: %v", name, id, err)
		}
	}
}

// stopRobots stops every robot process with SIGINT (a robot writes its
// camera figures as it exits).
func (f *fleet) stopRobots() {
	f.t.Helper()
	for _, id := range f.ids {
		if err := f.robots[id].Interrupt(10 * time.Second); err != nil {
			f.t.Errorf("%s on SIGINT: %v", id, err)
		}
	}
}

// freeze stops robot id's link both ways, sockets open (a half-open link:
// Wi-Fi that hangs), until thaw.
func (f *fleet) freeze(id string) { f.toxic(id, "freeze", "timeout", "", `{"timeout":0}`) }

func (f *fleet) thaw(id string) {
	f.t.Helper()
	for _, dir := range []string{"upstream", "downstream"} {
		if err := f.proxies[id].Toxics.RemoveToxic(context.Background(), "freeze_"+dir); err != nil {
			f.t.Fatalf("thaw %s: %v", id, err)
		}
	}
}

// truthLog keeps the world's ground truth as it streams in.
type truthLog struct {
	mu    sync.Mutex
	snaps []world.Truth
}

func (l *truthLog) add(t world.Truth) bool {
	l.mu.Lock()
	l.snaps = append(l.snaps, t)
	l.mu.Unlock()
	return true
}

func (l *truthLog) last() (world.Truth, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.snaps) == 0 {
		return world.Truth{}, false
	}
	return l.snaps[len(l.snaps)-1], true
}

// first is the sim time of the first snapshot.
func (l *truthLog) first() float64 {
	for {
		l.mu.Lock()
		if len(l.snaps) > 0 {
			t := l.snaps[0].World.SimTimeS
			l.mu.Unlock()
			return t
		}
		l.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
}

func (l *truthLog) collisions() int {
	t, _ := l.last()
	return t.World.Collisions
}

func (l *truthLog) speed(id string) float64 {
	t, _ := l.last()
	for _, r := range t.World.Robots {
		if r.Robot == id {
			return math.Abs(r.SpeedMps)
		}
	}
	return 0
}

func (l *truthLog) summary() string {
	t, ok := l.last()
	if !ok {
		return "none yet"
	}
	s := fmt.Sprintf("sim %.1fs, %d collisions;", t.World.SimTimeS, t.World.Collisions)
	for _, r := range t.World.Robots {
		s += fmt.Sprintf(" %s(%.2f,%.2f v=%.2f)", r.Robot, r.XM, r.YM, r.SpeedMps)
	}
	return s
}

// travel is what robot id did in the truth from wall time from on: the
// path length it drove, and the wall time it last moved (more than 2 mm
// between snapshots), relative to from.
func (l *truthLog) travel(id string, from, to time.Time) (metres float64, lastMove time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var px, py float64
	have := false
	for _, s := range l.snaps {
		if s.Wall.Before(from) || s.Wall.After(to) {
			continue
		}
		for _, r := range s.World.Robots {
			if r.Robot != id {
				continue
			}
			if have {
				d := math.Hypot(r.XM-px, r.YM-py)
				metres += d
				if d > 0.002 {
					lastMove = s.Wall.Sub(from)
				}
			}
			px, py, have = r.XM, r.YM, true
		}
	}
	return metres, lastMove
}

// still reports whether robot id made no move of more than 2 mm between
// from and to.
func (l *truthLog) still(id string, from, to time.Time) bool {
	m, _ := l.travel(id, from, to)
	return m < 0.01
}

// sortedIDs of a map, for stable messages.
func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
