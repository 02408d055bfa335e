package faults

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"collaborate/internal/testkit"
)

// haltAt is when robot id first stood (speed 0) at or after from,
// relative to from; ok is false if it did not.
func (l *truthLog) haltAt(id string, from time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.snaps {
		if s.Wall.Before(from) {
			continue
		}
		for _, r := range s.World.Robots {
			if r.Robot == id && r.SpeedMps == 0 {
				return s.Wall.Sub(from), true
			}
		}
	}
	return 0, false
}

// firstMove is when robot id first moved (more than 2 mm between
// snapshots) after from, relative to from; ok is false if it did not.
func (l *truthLog) firstMove(id string, from time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var px, py float64
	have := false
	for _, s := range l.snaps {
		if s.Wall.Before(from) {
			continue
		}
		for _, r := range s.World.Robots {
			if r.Robot != id {
				continue
			}
			if have && math.Hypot(r.XM-px, r.YM-py) > 0.002 {
				return s.Wall.Sub(from), true
			}
			px, py, have = r.XM, r.YM, true
		}
	}
	return 0, false
}

// TestNATSNodeLoss: the missions run on a 3-node NATS cluster
// (deploy/nats/, users from `orchestrator nats-auth`), the robots on node 1
// and the orchestrator on node 2, each given every node. Node 1 is killed
// (kill -9) mid-mission: its robots halt within the liveness bound,
// reconnect to another node, are resynchronised, and every mission finishes with
// each checkpoint recorded once and 0 collisions. A robot reconnects to
// node 2, or to node 3 when node 2 keeps it waiting while JetStream
// elects new leaders for what node 1 led.
func TestNATSNodeLoss(t *testing.T) {
	t.Parallel()
	f := start(t, options{nats: true})
	n1, n2 := f.cluster.Nodes[0], f.cluster.Nodes[1]
	testkit.Eventually(t, 30*time.Second, "the robots on node 1, the orchestrator on node 2", func() bool {
		c1, err1 := n1.MQTTClients()
		c2, err2 := n2.MQTTClients()
		if err1 != nil || err2 != nil {
			return false
		}
		for _, id := range f.ids {
			if c1[id] != id {
				return false
			}
		}
		return c2["orchestrator"] == "orchestrator"
	})
	f.midRoute()
	n1.Kill()
	killed := time.Now()

	// Each robot's failover: from the kill to the orchestrator hearing it
	// again (its last_seen past the kill: nothing of a robot's reaches the
	// orchestrator while it has no broker), polled every 20 ms.
	back := map[string]time.Duration{}
	testkit.Eventually(t, 60*time.Second, "the orchestrator to hear every robot again", func() bool {
		v := f.fleetView()
		if v == nil {
			return false
		}
		for _, r := range v.Robots {
			if _, seen := back[r.ID]; !seen && r.LastSeen.After(killed.Add(100*time.Millisecond)) {
				back[r.ID] = r.LastSeen.Sub(killed)
			}
		}
		return len(back) == len(f.ids)
	}, f.describe)
	on := map[string]string{}
	testkit.Eventually(t, 10*time.Second, "the robots' sessions on the other nodes", func() bool {
		for _, n := range f.cluster.Nodes[1:] {
			c, _ := n.MQTTClients()
			for _, id := range f.ids {
				if c[id] == id {
					on[id] = n.Name
				}
			}
		}
		return len(on) == len(f.ids)
	})
	f.waitDone()
	for _, id := range f.ids {
		// Each robot halts within the bound (it lost its broker, then
		// hears no heartbeat), and drives on once resynchronised.
		halt, ok := f.truth.haltAt(id, killed)
		if !ok || halt > time.Second {
			t.Errorf("%s: halted %v after node 1 died (%v), want within 1 s", id, halt, ok)
		}
		moved, _ := f.truth.firstMove(id, killed.Add(halt))
		t.Logf("%s: halted %v after the kill, heard again through %s %v after it, moving again %v after it", id,
			halt.Round(10*time.Millisecond), on[id], back[id].Round(10*time.Millisecond), (halt + moved).Round(10*time.Millisecond))
	}
	f.finish()
}

// natsClient connects with paho to a node as user, with the password the
// harness gave it.
func natsClient(t *testing.T, url, user, clientID, pass string, mod ...func(*paho.ClientOptions)) (paho.Client, error) {
	t.Helper()
	o := paho.NewClientOptions()
	for _, u := range strings.Split(url, ",") {
		o.AddBroker(u)
	}
	o.SetClientID(clientID).SetUsername(user).SetPassword(pass).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).SetCleanSession(false).SetConnectTimeout(10 * time.Second)
	for _, m := range mod {
		m(o)
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(15 * time.Second) {
		return nil, fmt.Errorf("connect %s as %s: no answer", url, user)
	}
	if err := tok.Error(); err != nil {
		return nil, fmt.Errorf("connect %s as %s: %w", url, user, err)
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c, nil
}

// inbox collects messages by topic.
type inbox struct {
	mu sync.Mutex
	m  map[string][]string
}

func (b *inbox) add(_ paho.Client, m paho.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string][]string{}
	}
	b.m[m.Topic()] = append(b.m[m.Topic()], string(m.Payload()))
}

func (b *inbox) get(topic string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.m[topic])
}

func subResult(t *testing.T, c paho.Client, filter string, qos byte, h paho.MessageHandler) byte {
	t.Helper()
	tok := c.Subscribe(filter, qos, h)
	if !tok.WaitTimeout(15 * time.Second) {
		t.Fatalf("subscribe %s: no SUBACK", filter)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("subscribe %s: %v", filter, err)
	}
	return tok.(*paho.SubscribeToken).Result()[filter]
}

// TestNATSContract checks, with paho on a 3-node cluster set up from
// deploy/nats/, what of the MQTT contract NATS keeps and where it differs
// (README, "Outgrowing the laptop"; deploy/nats/README.md):
//   - retained messages and QoS 1 reach clients on other nodes, and a QoS 1
//     message queued for a robot's session is delivered after its node died
//     and it reconnected to another;
//   - a robot's publish outside its own topics is acknowledged and dropped,
//     its connection kept, as the embedded broker does; a subscription
//     outside its topics is refused (SUBACK 0x80);
//   - a last will is published when the client's connection dies;
//   - an observer reads everything at QoS 0 and never NATS's own $MQTT
//     subjects; its QoS 1 subscription is refused (a limit);
//   - the client id is not tied to the user name (a limit): a robot's
//     account can connect under another robot's client id, and takes its
//     session over; it still publishes only its own topics;
//   - a publish of any size is delivered (a limit: 2 MB here; the embedded
//     broker drops packets over 64 KiB), and the orchestrator's validation
//     drops it;
//   - a user added and the nodes reloaded (SIGHUP) can connect.
func TestNATSContract(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "faults-"+t.Name()+"-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if !t.Failed() {
			os.RemoveAll(dir)
		} else {
			t.Logf("files in %s", dir)
		}
	}()
	f := &fleet{t: t, dir: dir, o: options{accounts: []string{"r1", "r2"}}}
	creds := f.path("credentials.yaml")
	f.startNATS(creds)
	nodes := f.cluster.Nodes
	orch, err := natsClient(t, nodes[1].MQTTURL, "orchestrator", "orchestrator", "orch-secret-pw")
	if err != nil {
		t.Fatal(err)
	}
	watchIn := &inbox{}
	watch, err := natsClient(t, nodes[2].MQTTURL, "watch", "watch", "watch-secret-pw", func(o *paho.ClientOptions) { o.SetCleanSession(true) })
	if err != nil {
		t.Fatal(err)
	}

	t.Run("observer: everything at QoS 0, never NATS's own subjects, QoS 1 refused", func(t *testing.T) {
		if got := subResult(t, watch, "#", 0, watchIn.add); got != 0 {
			t.Fatalf("watch subscribing # at QoS 0: SUBACK %#x", got)
		}
		if got := subResult(t, watch, "robots/+/status", 1, nil); got != 0x80 {
			t.Errorf("watch subscribing at QoS 1: SUBACK %#x, want 0x80 (NATS's QoS 1 needs $MQTT.sub, which observers may not read)", got)
		}
	})
	t.Run("retained and QoS 1 across nodes", func(t *testing.T) {
		if tok := orch.Publish("fleet/map", 1, true, `{"retained":"across nodes"}`); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
		late, err := natsClient(t, nodes[0].MQTTURL, "watch", "watch-late", "watch-secret-pw", func(o *paho.ClientOptions) { o.SetCleanSession(true) })
		if err != nil {
			t.Fatal(err)
		}
		in := &inbox{}
		subResult(t, late, "fleet/map", 0, in.add)
		testkit.Eventually(t, 15*time.Second, "the retained map on node 1", func() bool { return len(in.get("fleet/map")) == 1 })
	})

	r1In := &inbox{}
	r1, err := natsClient(t, nodes[0].MQTTURL, "r1", "r1", password("r1"), func(o *paho.ClientOptions) {
		o.SetBinaryWill("robots/r1/status", []byte(`{"will":"r1 gone"}`), 1, true)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a robot's own topics only", func(t *testing.T) {
		if got := subResult(t, r1, "robots/r1/cmd", 1, r1In.add); got != 1 {
			t.Errorf("r1 subscribing to its cmd at QoS 1: SUBACK %#x, want 1", got)
		}
		if got := subResult(t, r1, "robots/r2/cmd", 1, nil); got != 0x80 {
			t.Errorf("r1 subscribing to r2's cmd: SUBACK %#x, want 0x80", got)
		}
		tok := r1.Publish("robots/r2/pose", 1, false, `{"forged":true}`)
		if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
			t.Errorf("r1's forged publish was not acknowledged: %v", tok.Error())
		}
		sentinel := r1.Publish("robots/r1/events", 1, false, `{"sentinel":1}`)
		sentinel.WaitTimeout(15 * time.Second)
		testkit.Eventually(t, 15*time.Second, "r1's own event at the observer", func() bool { return len(watchIn.get("robots/r1/events")) == 1 })
		if got := watchIn.get("robots/r2/pose"); len(got) != 0 {
			t.Errorf("r1's publish on r2's topic was delivered: %q", got)
		}
		if !r1.IsConnectionOpen() {
			t.Error("a denied publish closed r1's connection (the contract: acknowledged and dropped)")
		}
	})
	t.Run("client id not tied to the user", func(t *testing.T) {
		r2, err := natsClient(t, nodes[0].MQTTURL, "r2", "r2", password("r2"))
		if err != nil {
			t.Fatal(err)
		}
		subResult(t, r2, "robots/r2/cmd", 1, nil)
		impIn := &inbox{}
		imp, err := natsClient(t, nodes[2].MQTTURL, "r1", "r2", password("r1"), func(o *paho.ClientOptions) { o.SetDefaultPublishHandler(impIn.add) })
		if err != nil {
			t.Logf("NATS refused r1's account under client id r2: %v", err)
			return
		}
		testkit.Eventually(t, 15*time.Second, "r2's own connection taken over", func() bool { return !r2.IsConnectionOpen() })
		t.Logf("limit: r1's account connected as client id r2 and took r2's session over")
		tok := imp.Publish("robots/r2/status", 1, true, `{"forged":"by r1 as r2"}`)
		tok.WaitTimeout(15 * time.Second)
		if tok := orch.Publish("robots/r2/cmd", 1, false, `{"for":"r2 only"}`); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
		imp.Publish("robots/r1/events", 1, false, `{"sentinel":2}`).WaitTimeout(15 * time.Second)
		testkit.Eventually(t, 15*time.Second, "the second sentinel", func() bool { return len(watchIn.get("robots/r1/events")) == 2 })
		for _, p := range watchIn.get("robots/r2/status") {
			if strings.Contains(p, "forged") {
				t.Errorf("r1, under client id r2, published on r2's topic: %s", p)
			}
		}
		if got := impIn.get("robots/r2/cmd"); len(got) != 0 {
			t.Errorf("r1, under client id r2, read r2's command through r2's session: %q", got)
		}
	})
	t.Run("oversized publishes", func(t *testing.T) {
		orchIn := &inbox{}
		subResult(t, orch, "robots/+/sightings", 1, orchIn.add)
		big := strings.Repeat("x", 300<<10)
		if tok := r1.Publish("robots/r1/sightings", 1, false, big); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
			t.Fatalf("a 300 KB publish: %v", tok.Error())
		}
		testkit.Eventually(t, 15*time.Second, "the 300 KB publish delivered (the orchestrator's validation drops it)", func() bool { return len(orchIn.get("robots/r1/sightings")) == 1 })
		huge, err := natsClient(t, nodes[0].MQTTURL, "r2", "r2-huge", password("r2"), func(o *paho.ClientOptions) { o.SetCleanSession(true) })
		if err != nil {
			t.Fatal(err)
		}
		if tok := huge.Publish("robots/r2/sightings", 1, false, strings.Repeat("x", 2<<20)); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
			t.Fatalf("a 2 MB publish: %v", tok.Error())
		}
		testkit.Eventually(t, 15*time.Second, "the 2 MB publish delivered", func() bool { return len(orchIn.get("robots/r2/sightings")) == 1 })
		if !huge.IsConnectionOpen() {
			t.Error("a 2 MB publish closed the connection")
		}
		t.Logf("limit: NATS delivers MQTT publishes of any size (2 MB here; its max_payload does not apply to MQTT): the receivers' validation (16 KiB) drops them")
	})
	t.Run("a QoS 1 message queued for a robot whose node died", func(t *testing.T) {
		r1.Disconnect(50) // a clean disconnect: no will
		if tok := orch.Publish("robots/r1/cmd", 1, false, `{"queued":"while away"}`); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
		nodes[0].Kill()
		killed := time.Now()
		r1b, err := natsClient(t, f.cluster.URLs(0, 2), "r1", "r1", password("r1"), func(o *paho.ClientOptions) {
			o.SetDefaultPublishHandler(r1In.add).SetConnectTimeout(5 * time.Second)
			o.SetBinaryWill("robots/r1/status", []byte(`{"will":"r1 gone"}`), 1, true)
		})
		for i := 0; err != nil && i < 10; i++ { // JetStream elects new leaders for the lost node's streams first
			r1b, err = natsClient(t, f.cluster.URLs(0, 2), "r1", "r1", password("r1"), func(o *paho.ClientOptions) {
				o.SetDefaultPublishHandler(r1In.add).SetConnectTimeout(5 * time.Second)
				o.SetBinaryWill("robots/r1/status", []byte(`{"will":"r1 gone"}`), 1, true)
			})
		}
		if err != nil {
			t.Fatalf("r1 cannot reconnect to node 3: %v", err)
		}
		t.Logf("r1 reconnected to node 3 %v after node 1 died", time.Since(killed).Round(10*time.Millisecond))
		testkit.Eventually(t, 30*time.Second, "the queued cmd delivered on node 3", func() bool { return len(r1In.get("robots/r1/cmd")) == 1 })

		// A last will, published when the connection dies without a
		// DISCONNECT: r2's connection, through a proxy, cut.
		cut := testkit.StartProxy(t, nodes[2].MQTTAddr)
		if _, err := natsClient(t, "tcp://"+cut.Addr, "r2", "r2", password("r2"), func(o *paho.ClientOptions) {
			o.SetBinaryWill("robots/r2/status", []byte(`{"will":"r2 gone"}`), 1, true)
		}); err != nil {
			t.Fatal(err)
		}
		cut.Cut()
		testkit.Eventually(t, 15*time.Second, "r2's will at the observer", func() bool {
			for _, p := range watchIn.get("robots/r2/status") {
				if strings.Contains(p, "r2 gone") {
					return true
				}
			}
			return false
		})
		_ = r1b
	})
	t.Run("a user added, the nodes reloaded", func(t *testing.T) {
		f.passwd(creds, "robot", "r9", password("r9"))
		if out, err := exec.Command(bins["./orchestrator"], "nats-auth", "--credentials", creds, "--out", f.path("nats-auth.conf")).CombinedOutput(); err != nil {
			t.Fatalf("nats-auth: %v\n%s", err, out)
		}
		if err := f.cluster.SetAuth(f.path("nats-auth.conf")); err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes[1:] {
			if err := n.Reload(); err != nil {
				t.Fatal(err)
			}
		}
		var last error
		testkit.Eventually(t, 30*time.Second, "r9 to connect after the reload", func() bool {
			_, last = natsClient(t, nodes[2].MQTTURL, "r9", "r9", password("r9"))
			return last == nil
		}, func() string { return fmt.Sprint(last) })
		for _, n := range nodes[1:] {
			if !n.Running() {
				t.Errorf("%s died on the reload:\n%s", n.Name, testkit.Tail(n.Logs.String(), 30))
			}
		}
	})
}
