package main

// End-to-end mission tests: the whole program (run) with four simulated
// robots flying the example missions, once through the embedded broker and
// once through a real mosquitto configured with deploy/mosquitto/. Both
// check the acceptance: every mission completes, GET /api/fleet
// shows every robot done, and sim/world (the simulator's collision oracle,
// read over MQTT as the watch user) counts zero collisions.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"collaborate/topics"

	paho "github.com/eclipse/paho.mqtt.golang"
)

const (
	// e2eBound is how long the missions may take in wall time. At
	// e2eSpeed they take about 25 s (100 simulated seconds, mapping sweep
	// included); the bound is generous for a loaded CI machine.
	e2eBound = 90 * time.Second
	// e2eSpeed is the simulated seconds per wall second. 4 is what the
	// control loops keep up with: the planner runs every 100 ms of wall
	// time and MQTT adds latency, both multiplied by the speed in sim
	// time. At 8, runs showed pilot faults ("marker not seen after a full
	// turn") and repeated head-on back-offs.
	e2eSpeed = "4"
	// e2eSeed fixes the simulated world (start poses, camera noise).
	e2eSeed = "1"
	// e2eMissions has crossing routes for r1..r4.
	e2eMissions = "../deploy/missions.example.yaml"
	e2eRobots   = 4
)

// eventuallyWithin polls cond every 100 ms until it holds or bound passes;
// on timeout it fails with what and the detail of the last state.
func eventuallyWithin(t *testing.T, bound time.Duration, what string, cond func() bool, detail func() string) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s\n%s", bound, what, detail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// worldWatch follows sim/world over MQTT.
type worldWatch struct {
	mu         sync.Mutex
	last       []byte
	n          int
	collisions int // the largest count seen: the world's count only grows
}

func (w *worldWatch) take(p []byte) {
	m, err := topics.DecodeWorld(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = append(w.last[:0], p...)
	w.n++
	if err == nil && m.Collisions > w.collisions {
		w.collisions = m.Collisions
	}
}

func (w *worldWatch) state() (n, collisions int, last string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n, w.collisions, string(w.last)
}

// connectAs connects to brokerURL as user with paho, subscribes to each
// filter at QoS 0 and hands every message to h. The connection closes at
// the end of the test.
func connectAs(t *testing.T, brokerURL, user, password string, h func(topic string, payload []byte), filters ...string) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(brokerURL).SetClientID("e2e-" + user).
		SetUsername(user).SetPassword(password).SetAutoReconnect(false).
		SetCleanSession(true).SetOrderMatters(true)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("connect to %s as %s: %v", brokerURL, user, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	for _, f := range filters {
		tok := c.Subscribe(f, 0, func(_ paho.Client, m paho.Message) { h(m.Topic(), m.Payload()) })
		if !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatalf("subscribe %s as %s: %v", f, user, tok.Error())
		}
	}
	return c
}

// fleetDone reads GET /api/fleet as the observer watch (basic
// authentication): whether all want robots are done, and the body for a
// failure message.
func fleetDone(httpAddr, watchPass string, want int) (bool, string) {
	req, err := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/api/fleet", nil)
	if err != nil {
		return false, err.Error()
	}
	req.SetBasicAuth("watch", watchPass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, "GET /api/fleet: " + err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return false, fmt.Sprintf("GET /api/fleet: %d %v\n%s", resp.StatusCode, err, body)
	}
	var fleet struct {
		Robots []struct {
			ID   string `json:"id"`
			Done bool   `json:"done"`
		} `json:"robots"`
	}
	if err := json.Unmarshal(body, &fleet); err != nil {
		return false, fmt.Sprintf("GET /api/fleet: %v\n%s", err, body)
	}
	done := 0
	for _, r := range fleet.Robots {
		if r.Done {
			done++
		}
	}
	return len(fleet.Robots) == want && done == want, string(body)
}

// knownStalls names the known ways a mission stalls that the fleet shows,
// to speed up reading a failure.
func knownStalls(fleet string) string {
	var hints []string
	var v struct {
		Robots []struct {
			ID    string   `json:"id"`
			State string   `json:"state"`
			Done  bool     `json:"done"`
			Holds []string `json:"holds"`
		} `json:"robots"`
		Stats struct {
			Stale int `json:"stale_directives"`
		} `json:"stats"`
	}
	if json.Unmarshal([]byte(fleet), &v) != nil {
		return ""
	}
	if v.Stats.Stale > 0 {
		hints = append(hints, fmt.Sprintf("%d directives were ignored as stale by robots: a route overtaken by the hold "+
			"sent right after it (robot/link delivers out of order) leaves the robot idle for ever", v.Stats.Stale))
	}
	for _, r := range v.Robots {
		if !r.Done && r.State == "idle" {
			hints = append(hints, fmt.Sprintf("%s is idle before the end of its route", r.ID))
		}
	}
	if len(hints) == 0 {
		return ""
	}
	return "known stalls:\n  " + strings.Join(hints, "\n  ") + "\n"
}

// assertMissions waits for every mission to complete, then checks the
// collision oracle. The API is read as the first run's observer.
func assertMissions(t *testing.T, httpAddr, stateDir string, w *worldWatch) {
	t.Helper()
	var fleet string
	detail := func() string {
		n, coll, last := w.state()
		return fmt.Sprintf("%sGET /api/fleet:\n%s\nlast sim/world (%d received, max collisions %d):\n%s",
			knownStalls(fleet), fleet, n, coll, last)
	}
	start := time.Now()
	eventuallyWithin(t, e2eBound, "every robot done", func() bool {
		var done bool
		done, fleet = fleetDone(httpAddr, initialPassword(t, stateDir, "watch"), e2eRobots)
		return done
	}, detail)
	t.Logf("missions completed in %v wall at --sim-speed %s", time.Since(start).Round(100*time.Millisecond), e2eSpeed)
	// The world publishes at 10 Hz: wait for one more message, which holds
	// every contact up to the last arrival.
	n0, _, _ := w.state()
	eventuallyWithin(t, 10*time.Second, "sim/world after the last arrival", func() bool {
		n, _, _ := w.state()
		return n > n0
	}, detail)
	if _, coll, _ := w.state(); coll != 0 {
		t.Errorf("sim/world counts %d collisions, want 0\n%s", coll, detail())
	}
}

// TestEndToEndEmbedded: --sim 4 with the example missions through the
// embedded broker.
func TestEndToEndEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end missions take about 25 s")
	}
	dir := t.TempDir()
	r := start(t, dir, "--sim", strconv.Itoa(e2eRobots), "--missions", e2eMissions,
		"--sim-speed", e2eSpeed, "--sim-seed", e2eSeed)
	w := &worldWatch{}
	connectAs(t, "tcp://"+r.addrs["mqtt"], "watch", initialPassword(t, dir, "watch"),
		func(_ string, p []byte) { w.take(p) }, topics.TopicSimWorld)
	assertMissions(t, r.addrs["http"], dir, w)
}

// requireTool returns the path of a program, or skips the test when it is
// missing, unless COLLABORATE_REQUIRE_TOOLS=1 makes that a failure.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("COLLABORATE_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s is required (COLLABORATE_REQUIRE_TOOLS=1): %v", name, err)
	}
	t.Skipf("%s not installed: %v", name, err)
	return ""
}

// mosquitto is a broker started by the test.
type mosquitto struct {
	url  string // tcp://127.0.0.1:PORT
	logs *syncBuffer
}

// mosquittoConf rewrites deploy/mosquitto/mosquitto.conf for a test run:
// the listener on 127.0.0.1:port, the password file, the ACL and the
// persistence directory under dir. Every other line is kept, and the lines
// this test relies on must be there.
func mosquittoConf(t *testing.T, port int, passwd, acl, dataDir string) string {
	t.Helper()
	src, err := os.ReadFile("../deploy/mosquitto/mosquitto.conf")
	if err != nil {
		t.Fatal(err)
	}
	replace := map[string]string{
		"listener":             fmt.Sprintf("listener %d 127.0.0.1", port),
		"password_file":        "password_file " + passwd,
		"acl_file":             "acl_file " + acl,
		"persistence_location": "persistence_location " + dataDir + "/",
	}
	required := map[string]string{
		"allow_anonymous":          "allow_anonymous false",
		"use_username_as_clientid": "use_username_as_clientid true",
		"persistence":              "persistence true",
	}
	seen := map[string]bool{}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, _, _ := strings.Cut(line, " ")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case replace[key] != "":
			if seen[key] {
				t.Fatalf("mosquitto.conf: %s given twice", key)
			}
			seen[key] = true
			line = replace[key]
		case required[key] != "":
			seen[key] = true
			if line != required[key] {
				t.Errorf("mosquitto.conf: %q, want %q", line, required[key])
			}
		}
		out.WriteString(line + "\n")
	}
	for _, m := range []map[string]string{replace, required} {
		for key := range m {
			if !seen[key] {
				t.Errorf("mosquitto.conf lacks %s", key)
			}
		}
	}
	if os.Geteuid() == 0 {
		// As root, mosquitto would switch to its own user, which cannot
		// read the test's temporary files.
		out.WriteString("user root\n")
	}
	return out.String()
}

// freePort picks a loopback port that is free now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startMosquitto runs mosquitto with the deploy/ configuration and
// password file passwd on a loopback port chosen now. Another process may
// take the port between the choice and mosquitto's bind: then it tries
// again with another.
func startMosquitto(t *testing.T, dir, passwd string) *mosquitto {
	t.Helper()
	bin := requireTool(t, "mosquitto")
	acl, err := filepath.Abs("../deploy/mosquitto/acl")
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "mosquitto-data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		conf := filepath.Join(dir, "mosquitto.conf")
		if err := os.WriteFile(conf, []byte(mosquittoConf(t, port, passwd, acl, dataDir)), 0o600); err != nil {
			t.Fatal(err)
		}
		logs := &syncBuffer{}
		cmd := exec.Command(bin, "-c", conf)
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatalf("start mosquitto: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		deadline := time.Now().Add(wait)
		for {
			select {
			case err := <-exited:
				lastErr = fmt.Errorf("mosquitto exited: %v\n%s", err, logs.String())
			default:
				c, err := net.Dial("tcp", addr)
				if err == nil {
					c.Close()
					t.Cleanup(func() {
						_ = cmd.Process.Signal(os.Interrupt)
						select {
						case <-exited:
						case <-time.After(wait):
							_ = cmd.Process.Kill()
							<-exited
						}
						if t.Failed() {
							t.Logf("mosquitto log:\n%s", logs.String())
						}
					})
					return &mosquitto{url: "tcp://" + addr, logs: logs}
				}
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					<-exited
					t.Fatalf("mosquitto did not listen on %s within %v\n%s", addr, wait, logs.String())
				}
				time.Sleep(20 * time.Millisecond)
				continue
			}
			break
		}
	}
	t.Fatalf("mosquitto did not start in 3 attempts: %v", lastErr)
	return nil
}

// mosquittoPasswd writes a mosquitto password file with each user's
// password.
func mosquittoPasswd(t *testing.T, path string, users map[string]string) {
	t.Helper()
	bin := requireTool(t, "mosquitto_passwd")
	first := true
	for user, pass := range users {
		args := []string{"-b", path, user, pass}
		if first {
			args = append([]string{"-c"}, args...)
			first = false
		}
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd %s: %v\n%s", user, err, out)
		}
	}
}

// mosquittoPub publishes one QoS 1 message as user; it returns once the
// broker has acknowledged it. mosquitto acknowledges a publish that the
// ACL denies, and drops it.
func mosquittoPub(t *testing.T, m *mosquitto, user, pass, topic, payload string) error {
	t.Helper()
	bin := requireTool(t, "mosquitto_pub")
	port := m.url[strings.LastIndex(m.url, ":")+1:]
	out, err := exec.Command(bin, "-h", "127.0.0.1", "-p", port, "-u", user, "-P", pass,
		"-q", "1", "-t", topic, "-m", payload).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mosquitto_pub as %s to %s: %v: %s", user, topic, err, out)
	}
	return nil
}

// TestEndToEndMosquitto: the same missions through a real mosquitto
// configured with deploy/mosquitto/ (password file, ACL), the orchestrator
// in --broker mode. First the ACL is checked with mosquitto_pub, while no
// robot is connected (a client under a robot's name would take over that
// robot's session).
func TestEndToEndMosquitto(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end missions take about 30 s")
	}
	dir := t.TempDir()
	passwords := map[string]string{"orchestrator": "orch-e2e-secret", "watch": "watch-e2e-secret"}
	const robotPass = "robot-e2e-secret"
	for k := 1; k <= e2eRobots; k++ {
		passwords[fmt.Sprintf("r%d", k)] = robotPass
	}
	passwd := filepath.Join(dir, "passwd")
	mosquittoPasswd(t, passwd, passwords)
	m := startMosquitto(t, dir, passwd)

	t.Run("acl", func(t *testing.T) { checkMosquittoACL(t, m, passwords) })
	if t.Failed() {
		return
	}

	orchPass := filepath.Join(dir, "orchestrator.pass")
	simPass := filepath.Join(dir, "robots.pass")
	for path, pass := range map[string]string{orchPass: passwords["orchestrator"], simPass: robotPass} {
		if err := os.WriteFile(path, []byte(pass+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w := &worldWatch{}
	connectAs(t, m.url, "watch", passwords["watch"], func(_ string, p []byte) { w.take(p) }, topics.TopicSimWorld)
	r := start(t, filepath.Join(dir, "state"), "--broker", m.url, "--username", "orchestrator",
		"--password-file", orchPass, "--sim", strconv.Itoa(e2eRobots), "--sim-password-file", simPass,
		"--missions", e2eMissions, "--sim-speed", e2eSpeed, "--sim-seed", e2eSeed)
	if _, ok := r.addrs["mqtt"]; ok {
		t.Errorf("with --broker the orchestrator announced an embedded MQTT listener: %q", r.out.String())
	}
	assertMissions(t, r.addrs["http"], filepath.Join(dir, "state"), w)
}

// checkMosquittoACL publishes as each user on a topic and watches it as
// another user who reads everything. An allowed message arrives. A denied
// one never does: after it, r1 publishes a sentinel on its own events, and
// the broker delivers to one subscriber in the order it handled the
// messages, so the sentinel's arrival proves the denied message is not on
// its way.
func checkMosquittoACL(t *testing.T, m *mosquitto, passwords map[string]string) {
	cases := []struct {
		desc, user, topic string
		allowed           bool
	}{
		{"robot publishes its own pose", "r1", "robots/r1/pose", true},
		{"robot publishes its own checkpoint", "r1", "robots/r1/checkpoint", true},
		{"robot publishes another robot's pose", "r1", "robots/r2/pose", false},
		{"robot publishes another robot's checkpoint", "r1", "robots/r2/checkpoint", false},
		{"robot publishes its own directives", "r1", "robots/r1/cmd", false},
		{"robot publishes another robot's directives", "r1", "robots/r2/cmd", false},
		{"robot publishes a fleet command", "r1", "fleet/cmd", false},
		{"robot publishes the orchestrator's status", "r1", "orchestrator/status", false},
		{"robot publishes the world", "r1", "sim/world", false},
		{"watch publishes a directive", "watch", "robots/r1/cmd", false},
		{"watch publishes a robot's pose", "watch", "robots/r1/pose", false},
		{"watch publishes a fleet command", "watch", "fleet/cmd", false},
		{"orchestrator publishes a directive", "orchestrator", "robots/r1/cmd", true},
		{"orchestrator publishes the map", "orchestrator", "fleet/map", true},
	}
	for i, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			// One connection per username: the subscriber must not be the
			// publisher, or the publisher's connection would close it.
			via := "watch"
			if c.user == "watch" {
				via = "orchestrator"
			}
			var mu sync.Mutex
			got := map[string]string{} // payload -> topic
			connectAs(t, m.url, via, passwords[via], func(topic string, p []byte) {
				mu.Lock()
				got[string(p)] = topic
				mu.Unlock()
			}, "#")
			arrived := func(payload string) (string, bool) {
				mu.Lock()
				defer mu.Unlock()
				topic, ok := got[payload]
				return topic, ok
			}
			probe := fmt.Sprintf("acl-probe-%d-%s", i, c.user)
			if err := mosquittoPub(t, m, c.user, passwords[c.user], c.topic, probe); err != nil {
				t.Fatal(err)
			}
			if c.allowed {
				eventuallyWithin(t, wait, "the allowed message", func() bool {
					_, ok := arrived(probe)
					return ok
				}, func() string { return m.logs.String() })
				return
			}
			sentinel := probe + "-sentinel"
			if err := mosquittoPub(t, m, "r1", passwords["r1"], "robots/r1/events", sentinel); err != nil {
				t.Fatal(err)
			}
			eventuallyWithin(t, wait, "the sentinel", func() bool {
				_, ok := arrived(sentinel)
				return ok
			}, func() string { return m.logs.String() })
			if topic, ok := arrived(probe); ok {
				t.Errorf("%s published on %s and it arrived on %s: the ACL let it through", c.user, c.topic, topic)
			}
		})
	}
	t.Run("anonymous refused", func(t *testing.T) {
		c := paho.NewClient(paho.NewClientOptions().AddBroker(m.url).SetClientID("e2e-anon").SetAutoReconnect(false))
		tok := c.Connect()
		if !tok.WaitTimeout(wait) {
			t.Fatal("no CONNACK for an anonymous client")
		}
		if tok.Error() == nil {
			c.Disconnect(0)
			t.Fatal("anonymous client connected: allow_anonymous must be false")
		}
	})
	t.Run("wrong password refused", func(t *testing.T) {
		err := mosquittoPub(t, m, "r1", "not-"+passwords["r1"], "robots/r1/pose", "x")
		if err == nil {
			t.Fatal("mosquitto_pub with a wrong password succeeded")
		}
	})
}
