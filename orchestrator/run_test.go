package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"collaborate/broker"
	"collaborate/internal/testkit"
	"collaborate/topics"

	paho "github.com/eclipse/paho.mqtt.golang"
)

const wait = 10 * time.Second

// running is an orchestrator started in-process by start.
type running struct {
	cancel context.CancelFunc
	done   chan error
	out    *testkit.Buffer
	errb   *testkit.Buffer
	addrs  map[string]string // "mqtt", "http", ... from the readiness lines
}

// start runs the orchestrator on loopback ports with stateDir and waits for
// its "ready" line.
func start(t testing.TB, stateDir string, extra ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), out: &testkit.Buffer{}, errb: &testkit.Buffer{}, addrs: map[string]string{}}
	args := append([]string{"--state-dir", stateDir, "--mqtt-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--log-format", "json"}, extra...)
	go func() { r.done <- run(ctx, args, environ{}, strings.NewReader(""), r.out, r.errb) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(wait):
			t.Errorf("run did not return")
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", r.out.String(), r.errb.String())
		}
	})
	testkit.Eventually(t, wait, "the ready line", func() bool {
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("run returned early: %v\n%s", err, r.errb.String())
		default:
		}
		return strings.Contains(r.out.String(), "\nready\n")
	})
	sc := bufio.NewScanner(strings.NewReader(r.out.String()))
	for sc.Scan() {
		if name, addr, ok := strings.Cut(sc.Text(), " listening on "); ok {
			r.addrs[name] = addr
		}
	}
	return r
}

// stop cancels run and returns its error; it fails the test if run takes
// more than 5 s to return.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return within 5 s of the cancel")
		return nil
	}
}

// initialPassword reads a password from the first-run file.
func initialPassword(t *testing.T, stateDir, user string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stateDir, initialPasswordsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if name, p, ok := strings.Cut(l, " "); ok && name == user {
			return p
		}
	}
	t.Fatalf("no initial password for %s", user)
	return ""
}

func watchStatus(t *testing.T, addr, password string) (paho.Client, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	o := paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("test-watch").
		SetUsername("watch").SetPassword(password).SetAutoReconnect(false).SetOrderMatters(false)
	o.SetOnConnectHandler(func(c paho.Client) {
		c.Subscribe(topics.TopicOrchestratorStatus, 1, func(_ paho.Client, m paho.Message) {
			mu.Lock()
			got = append(got, string(m.Payload()))
			mu.Unlock()
		})
	})
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("connect as watch: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

func stateOf(t *testing.T, payload string) *topics.OrchestratorState {
	t.Helper()
	m, err := topics.DecodeOrchestratorState([]byte(payload))
	if err != nil {
		t.Fatalf("orchestrator/status payload: %v", err)
	}
	return m
}

// TestRun: the orchestrator starts, answers /healthz, retains
// orchestrator/status online, and on cancel retains offline and returns
// within 5 s; a restart grows the epoch.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	for _, name := range []string{"mqtt", "http"} {
		if r.addrs[name] == "" {
			t.Fatalf("no %q readiness line in %q", name, r.out.String())
		}
	}

	resp, err := http.Get("http://" + r.addrs["http"] + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status string `json:"status"`
		Epoch  uint64 `json:"epoch"`
	}
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || health.Status != "ok" {
		t.Fatalf("/healthz = %d %+v (%v), want 200 ok", resp.StatusCode, health, err)
	}
	resp, err = http.Get("http://" + r.addrs["http"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/metrics without credentials: %d, want 401", resp.StatusCode)
	}
	if metrics := scrapeMetrics(t, r.addrs["http"], "watch", initialPassword(t, dir, "watch")); !strings.Contains(metrics, "collaborate_broker_drops_total") {
		t.Errorf("/metrics as watch lacks the broker's drop counter")
	}

	_, statuses := watchStatus(t, r.addrs["mqtt"], initialPassword(t, dir, "watch"))
	testkit.Eventually(t, wait, "the retained online status", func() bool { return len(statuses()) == 1 })
	online := stateOf(t, statuses()[0])
	if online.State != topics.OrchOnline || online.Epoch != health.Epoch || online.Epoch == 0 {
		t.Errorf("status = %+v, want online with epoch %d", online, health.Epoch)
	}

	if err := r.stop(t); err != nil {
		t.Fatalf("run returned %v", err)
	}
	testkit.Eventually(t, wait, "the offline status", func() bool { return len(statuses()) == 2 })
	if off := stateOf(t, statuses()[1]); off.State != topics.OrchOffline || off.Epoch != online.Epoch {
		t.Errorf("status at shutdown = %+v, want offline, epoch %d", off, online.Epoch)
	}

	// Retained offline is what the store holds after the shutdown.
	creds, err := broker.LoadCredentials(filepath.Join(dir, "credentials.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := broker.New(broker.Options{TCPAddr: "127.0.0.1:0", StateDir: dir, Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	retained := make(chan string, 1)
	err = b.Subscribe(topics.TopicOrchestratorStatus, 1, func(_ string, p []byte) { retained <- string(p) })
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-retained:
		if stateOf(t, p).State != topics.OrchOffline {
			t.Errorf("retained status after shutdown = %s, want offline", p)
		}
	default:
		t.Error("no retained orchestrator/status after shutdown")
	}

	r2 := start(t, dir)
	resp, err = http.Get("http://" + r2.addrs["http"] + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || health.Epoch != online.Epoch+1 {
		t.Errorf("epoch after restart = %d (%v), want %d", health.Epoch, err, online.Epoch+1)
	}
}

// TestShutdownWhileConnecting: run returns within 5 s of the cancel even
// with connections stuck before their CONNECT.
func TestShutdownWhileConnecting(t *testing.T) {
	r := start(t, t.TempDir())
	for range 5 {
		c, err := net.Dial("tcp", r.addrs["mqtt"])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("run returned %v", err)
	}
}

// TestBadFlags: flag errors are reported, not ignored.
func TestBadFlags(t *testing.T) {
	cases := []struct {
		desc string
		args []string
		want string
	}{
		{"unknown log format", []string{"--log-format", "xml"}, "--log-format"},
		{"tls host without tls", []string{"--tls-host", "laptop"}, "need --tls-addr"},
		{"bad tls host", []string{"--tls-addr", "127.0.0.1:0", "--tls-host", "bad host"}, "not a DNS name"},
		{"bad tls ip", []string{"--tls-addr", "127.0.0.1:0", "--tls-ip", "laptop"}, "not an IP address"},
		{"bad broker in a list", []string{"--broker", "tcp://a:1883,http://b"}, "comma-separated"},
		{"cert without key", []string{"--tls-cert", "c.pem"}, "go together"},
		{"stray argument", []string{"serve"}, "unexpected argument"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), append(c.args, "--state-dir", t.TempDir()), environ{}, strings.NewReader(""), &out, &errb)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("run(%v) = %v, want an error mentioning %q", c.args, err, c.want)
			}
		})
	}
}
