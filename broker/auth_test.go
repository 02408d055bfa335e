package broker

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"collaborate/internal/testkit"
	"collaborate/topics"
)

// TestAuthentication: bad credentials, anonymous clients and robots under a
// foreign client id are refused at CONNECT; good ones are accepted.
func TestAuthentication(t *testing.T) {
	needMosquitto(t)
	b := startBroker(t, Options{})
	h, p := hostPort(t, b.Addrs().TCP)
	cases := []struct {
		desc     string
		creds    []string // -u/-P arguments
		id       string
		refusal  string // "" means accepted
		wantText string
	}{
		{"robot with its own id", []string{"-u", "r1", "-P", pw("r1")}, "r1", "", ""},
		{"observer with any id", []string{"-u", "watch", "-P", pw("watch")}, "laptop-7", "", ""},
		{"wrong password", []string{"-u", "r1", "-P", "nope"}, "r1", RefuseBadCredentials, "not authori"},
		{"unknown user", []string{"-u", "r9", "-P", pw("r9")}, "r9", RefuseBadCredentials, "not authori"},
		{"anonymous", nil, "anon-1", RefuseAnonymous, "not authori"},
		{"robot under another robot's id", []string{"-u", "r1", "-P", pw("r1")}, "r2", RefuseClientID, ""},
		{"robot under a free id", []string{"-u", "r1", "-P", pw("r1")}, "robot-one", RefuseClientID, ""},
		{"observer under a robot's id", []string{"-u", "watch", "-P", pw("watch")}, "r2", RefuseClientID, ""},
		{"the inline client's id", []string{"-u", "orch", "-P", pw("orch")}, InlineClientID, RefuseClientID, ""},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			before := b.Refused()[c.refusal]
			args := append([]string{"-h", h, "-p", p, "-V", "mqttv311", "-i", c.id, "-q", "1",
				"-t", "probe/auth", "-m", "x"}, c.creds...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, "mosquitto_pub", args...).CombinedOutput()
			if c.refusal == "" {
				if err != nil {
					t.Fatalf("refused: %v: %s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want refused (%s)", c.refusal)
			}
			if !strings.Contains(strings.ToLower(string(out)), c.wantText) {
				t.Errorf("mosquitto_pub said %q, want it to contain %q", out, c.wantText)
			}
			if got := b.Refused()[c.refusal]; got != before+1 {
				t.Errorf("refusals for %s = %d, want %d", c.refusal, got, before+1)
			}
		})
	}
}

// TestAnonymousWatch: with AllowAnonymousWatch an anonymous client reads
// everything and publishes nothing.
func TestAnonymousWatch(t *testing.T) {
	needMosquitto(t)
	b := startBroker(t, Options{AllowAnonymousWatch: true})
	s := readySub(t, b, "", "anon-watch", "probe/anon", []byte("ready"), "#")
	before := b.Drops()[DropReadOnly]
	status := statusPayload(t, "r1", topics.StateIdle)
	if out, err := mosqPub(t, b.Addrs().TCP, "", "anon-pub", "-q", "1", "-t", topics.Robot("r1", topics.KindStatus), "-m", string(status)); err != nil {
		t.Fatalf("anonymous publish was not acked: %v: %s", err, out)
	}
	testkit.Eventually(t, wait, "the anonymous publish to be dropped", func() bool { return b.Drops()[DropReadOnly] == before+1 })
	if s.has(topics.Robot("r1", topics.KindStatus), "") {
		t.Errorf("anonymous publish was delivered: %q", s.out.String())
	}
}

// TestObserver: an observer (and an operator) reads every topic with '#'
// and cannot publish.
func TestObserver(t *testing.T) {
	needMosquitto(t)
	b := startBroker(t, Options{})
	addr := b.Addrs().TCP
	s := readySub(t, b, "watch", "watcher", "probe/observer", []byte("ready"), "#")
	pose := posePayload(t, "r1", 0.5)
	if out, err := mosqPub(t, addr, "r1", "r1", "-t", topics.Robot("r1", topics.KindPose), "-m", string(pose)); err != nil {
		t.Fatalf("r1 publish: %v: %s", err, out)
	}
	testkit.Eventually(t, wait, "the observer to read r1's pose", func() bool { return s.has(topics.Robot("r1", topics.KindPose), string(pose)) })
	if err := b.Publish(topics.Robot("r2", topics.KindCmd), directivePayload(t, topics.DirHold), true, 1); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, wait, "the observer to read r2's cmd", func() bool { return s.has(topics.Robot("r2", topics.KindCmd), "hold") })

	for _, user := range []string{"watch", "op"} {
		t.Run(user+" publishes", func(t *testing.T) {
			before := b.Drops()[DropReadOnly]
			fake := statusPayload(t, "r1", topics.StateFault)
			if out, err := mosqPub(t, addr, user, user+"-pub", "-q", "1", "-t", topics.Robot("r1", topics.KindStatus), "-m", string(fake)); err != nil {
				t.Fatalf("publish was not acked: %v: %s", err, out)
			}
			testkit.Eventually(t, wait, "the publish to be dropped as read-only", func() bool { return b.Drops()[DropReadOnly] == before+1 })
			if s.has(topics.Robot("r1", topics.KindStatus), string(fake)) {
				t.Errorf("%s's publish was delivered", user)
			}
		})
	}
}
