package broker

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"collaborate/internal/testkit"
	"collaborate/topics"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) {
	bcryptCost = bcrypt.MinCost // hashes are checked on every connect
	os.Exit(m.Run())
}

// pw is the password of every test user: its name plus "-pw".
func pw(name string) string { return name + "-pw" }

// testCreds has an orchestrator, an observer "watch", an operator "op" and
// robots r1 and r2.
func testCreds(t testing.TB) *Credentials {
	t.Helper()
	c := &Credentials{}
	for _, u := range []struct {
		name string
		role Role
	}{{"orch", RoleOrchestrator}, {"watch", RoleObserver}, {"op", RoleOperator}, {"r1", RoleRobot}, {"r2", RoleRobot}} {
		if err := c.SetPassword(u.name, u.role, []byte(pw(u.name))); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

type testBroker struct {
	*Broker
	logs *testkit.Buffer
	opts Options
}

// startBroker starts a broker on a loopback port with testCreds, unless o
// names other credentials or addresses. It is closed when the test ends.
func startBroker(t testing.TB, o Options) *testBroker {
	t.Helper()
	if o.Credentials == nil {
		o.Credentials = testCreds(t)
	}
	if o.TCPAddr == "" && o.TLSAddr == "" && o.WSAddr == "" {
		o.TCPAddr = "127.0.0.1:0"
	}
	logs := &testkit.Buffer{}
	o.Logger = zerolog.New(logs).With().Timestamp().Logger()
	b, err := New(o)
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close broker: %v", err)
		}
		if t.Failed() {
			t.Logf("broker log:\n%s", logs.String())
		}
	})
	return &testBroker{Broker: b, logs: logs, opts: o}
}

func hostPort(t testing.TB, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

// needMosquitto skips a test without the mosquitto clients it drives the
// broker with (fails under testkit.RequireTools).
func needMosquitto(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"mosquitto_pub", "mosquitto_sub"} {
		testkit.RequireTool(t, bin, "mosquitto-clients")
	}
}

// mosqArgs are the connection arguments of mosquitto_pub and mosquitto_sub.
func mosqArgs(t testing.TB, addr, user, id string) []string {
	h, p := hostPort(t, addr)
	args := []string{"-h", h, "-p", p, "-V", "mqttv311"}
	if user != "" {
		args = append(args, "-u", user, "-P", pw(user))
	}
	if id != "" {
		args = append(args, "-i", id)
	}
	return args
}

// mosqPub runs mosquitto_pub and returns its error and combined output.
func mosqPub(t testing.TB, addr, user, id string, extra ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := append(mosqArgs(t, addr, user, id), extra...)
	out, err := exec.CommandContext(ctx, "mosquitto_pub", args...).CombinedOutput()
	return string(out), err
}

// sub is a running mosquitto_sub -v.
type sub struct {
	out  *testkit.Buffer
	errb *testkit.Buffer
	cmd  *exec.Cmd
	done chan error
}

func (s *sub) lines() []string {
	var ls []string
	for _, l := range strings.Split(s.out.String(), "\n") {
		if l != "" {
			ls = append(ls, l)
		}
	}
	return ls
}

// has reports whether a line starts with "topic " and contains want.
func (s *sub) has(topic, want string) bool {
	for _, l := range s.lines() {
		if strings.HasPrefix(l, topic+" ") && strings.Contains(l, want) {
			return true
		}
	}
	return false
}

// hasLine reports whether the line "topic payload" was received.
func (s *sub) hasLine(topic, payload string) bool {
	for _, l := range s.lines() {
		if l == topic+" "+payload {
			return true
		}
	}
	return false
}

func (s *sub) exited() bool {
	select {
	case err := <-s.done:
		s.done <- err
		return true
	default:
		return false
	}
}

// mosqSub starts mosquitto_sub -v on the filters; it is killed when the test
// ends.
func mosqSub(t testing.TB, addr, user, id string, filters ...string) *sub {
	t.Helper()
	args := append(mosqArgs(t, addr, user, id), "-v", "-q", "1")
	for _, f := range filters {
		args = append(args, "-t", f)
	}
	s := &sub{out: &testkit.Buffer{}, errb: &testkit.Buffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command("mosquitto_sub", args...)
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.errb
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start mosquitto_sub: %v", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
	return s
}

// readySub starts mosquitto_sub as user on filters and waits until it
// receives a probe published in-process on probeTopic, which the filters
// must match.
func readySub(t testing.TB, b *testBroker, user, id, probeTopic string, probe []byte, filters ...string) *sub {
	t.Helper()
	s := mosqSub(t, b.Addrs().TCP, user, id, filters...)
	testkit.Eventually(t, wait, "mosquitto_sub to receive the probe on "+probeTopic, func() bool {
		if s.exited() {
			t.Fatalf("mosquitto_sub exited: %s", s.errb.String())
		}
		if err := b.Publish(probeTopic, probe, false, 0); err != nil {
			t.Fatal(err)
		}
		return s.has(probeTopic, "")
	})
	return s
}

var seq uint64

func stamp(sender string) topics.Header {
	return topics.Stamp(sender, atomic.AddUint64(&seq, 1), time.Now())
}

func mustEncode(t testing.TB, m topics.Message) []byte {
	t.Helper()
	b, err := topics.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func posePayload(t testing.TB, robot string, speed float64) []byte {
	return mustEncode(t, &topics.Pose{Header: stamp(robot), State: topics.StateMoving, SpeedMps: speed})
}

func statusPayload(t testing.TB, robot, state string) []byte {
	return mustEncode(t, &topics.Status{Header: stamp(robot), State: state})
}

func orchPayload(t testing.TB, state string) []byte {
	return mustEncode(t, &topics.OrchestratorState{Header: stamp("orchestrator"), State: state})
}

func directivePayload(t testing.TB, kind string) []byte {
	return mustEncode(t, &topics.Directive{Header: stamp("orchestrator"), Epoch: 1, Kind: kind})
}

func itoa(n int) string { return strconv.Itoa(n) }
