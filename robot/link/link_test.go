package link_test

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"collaborate/internal/testkit"
	"collaborate/robot/link"
	"collaborate/topics"
)

// wait bounds every wait for a link or a broker.
const wait = 10 * time.Second

// broker is a real mochi server on 127.0.0.1 that records every publish it
// routes, through an inline subscription to #.
type broker struct {
	srv  *mqtt.Server
	addr string
	once sync.Once

	mu   sync.Mutex
	msgs []packets.Packet
}

func startBroker(t testing.TB, addr string) *broker {
	t.Helper()
	return startBrokerOn(t, listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr}))
}

func startBrokerOn(t testing.TB, ln listeners.Listener) *broker {
	t.Helper()
	srv := mqtt.New(&mqtt.Options{
		Capabilities: mqtt.NewDefaultServerCapabilities(),
		InlineClient: true,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddListener(ln); err != nil {
		t.Fatalf("listen %s: %v", ln.Address(), err)
	}
	b := &broker{srv: srv, addr: ln.Address()}
	if err := srv.Subscribe("#", 1, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		b.mu.Lock()
		b.msgs = append(b.msgs, pk.Copy(false))
		b.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.stop)
	return b
}

// stop closes the broker once; mochi panics on a second Close.
func (b *broker) stop() { b.once.Do(func() { _ = b.srv.Close() }) }

// on returns the payloads recorded on a topic.
func (b *broker) on(topic string) [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out [][]byte
	for _, pk := range b.msgs {
		if pk.TopicName == topic {
			out = append(out, pk.Payload)
		}
	}
	return out
}

func (b *broker) publish(t testing.TB, topic string, m topics.Message) {
	t.Helper()
	payload, err := topics.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := topics.Parse(topic)
	p := topics.PolicyOf(k.Kind)
	if err := b.srv.Publish(topic, payload, p.Retained, p.QoS); err != nil {
		t.Fatal(err)
	}
}

// beat publishes orchestrator heartbeats of an epoch every 50 ms until the
// test ends, as a live orchestrator does.
func (b *broker) beat(t *testing.T, epoch uint64) {
	t.Helper()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for seq := uint64(1); ; seq++ {
			p, _ := topics.Encode(&topics.OrchestratorHeartbeat{Header: orch(seq), Epoch: epoch})
			_ = b.srv.Publish(topics.TopicOrchestratorHeartbeat, p, false, 0)
			select {
			case <-done:
				return
			case <-tk.C:
			}
		}
	}()
	t.Cleanup(func() { close(done); <-stopped })
}

var t0 = time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)

func orch(seq uint64) topics.Header { return topics.Stamp("orchestrator", seq, t0) }

func dial(t testing.TB, addr string, mod func(*link.Options)) *link.Link {
	t.Helper()
	o := link.Options{
		BrokerURL:      "tcp://" + addr,
		RobotID:        "r1",
		Password:       "secret",
		StoreDir:       t.TempDir(),
		KeepAlive:      2 * time.Second,
		ConnectTimeout: time.Second,
		RetryInterval:  100 * time.Millisecond,
		OpTimeout:      2 * time.Second,
		Faces:          &topics.FaceIDs{Front: 100, Left: 101, Back: 102, Right: 103},
		Version:        "test",
	}
	if mod != nil {
		mod(&o)
	}
	l, err := link.Dial(o)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func connected(l *link.Link) func() bool { return func() bool { return l.State().Connected } }

func receive(t *testing.T, l *link.Link) link.Incoming {
	t.Helper()
	select {
	case in, ok := <-l.Inbox():
		if !ok {
			t.Fatal("inbox closed")
		}
		return in
	case <-time.After(10 * time.Second):
		t.Fatal("nothing arrived in the inbox")
	}
	return link.Incoming{}
}

func TestRoundTrip(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	// Retained before the robot connects, as in a real start-up.
	b.publish(t, topics.TopicOrchestratorStatus, &topics.OrchestratorState{Header: orch(1), State: topics.OrchOnline, Epoch: 3})
	b.beat(t, 3)
	l := dial(t, b.addr, nil)
	if st := l.State(); st.Connected || st.OrchestratorOnline {
		t.Fatalf("state %+v before the connection, want all false", st)
	}
	testkit.Eventually(t, wait, "connected", connected(l))
	testkit.Eventually(t, wait, "orchestrator online", func() bool { return l.State().OrchestratorOnline })
	in := receive(t, l)
	if in.Kind != topics.KindOrchestratorStatus || in.Orchestrator == nil || in.Orchestrator.Epoch != 3 || !in.Retained {
		t.Fatalf("first inbound %+v, want the retained orchestrator status", in)
	}

	want := &topics.Directive{Header: orch(7), Epoch: 3, Kind: topics.DirRoute, Route: []int{4, 2}, Released: 1}
	b.publish(t, topics.Robot("r1", topics.KindCmd), want)
	in = receive(t, l)
	if in.Kind != topics.KindCmd || in.Directive == nil || in.Directive.Seq != 7 || len(in.Directive.Route) != 2 || in.Directive.Route[1] != 2 {
		t.Fatalf("inbound %+v, want directive %+v", in, want)
	}
	if in.Retained {
		t.Fatalf("a live delivery is flagged retained: %+v", in)
	}

	b.publish(t, topics.TopicFleetCmd, &topics.FleetCommand{Header: orch(8), Epoch: 3, Kind: topics.FleetStop})
	if in := receive(t, l); in.FleetCommand == nil || in.FleetCommand.Kind != topics.FleetStop {
		t.Fatalf("inbound %+v, want fleet stop", in)
	}
	b.publish(t, topics.TopicFleetMap, &topics.FleetMap{Header: orch(9), DiameterM: 3, Scale: 1, Markers: []topics.MapMarker{{ID: 1, XM: 1.5}}})
	if in := receive(t, l); in.FleetMap == nil || len(in.FleetMap.Markers) != 1 {
		t.Fatalf("inbound %+v, want fleet map", in)
	}

	d := 0.75
	if err := l.Publish(topics.KindPose, &topics.Pose{Header: l.Stamp(topics.KindPose), State: topics.StateMoving, DistanceM: &d, SpeedMps: 0.2}); err != nil {
		t.Fatalf("Publish pose: %v", err)
	}
	if err := l.Publish(topics.KindCheckpoint, &topics.Checkpoint{Header: l.Stamp(topics.KindCheckpoint), Epoch: 3, Marker: 4, Step: 0}); err != nil {
		t.Fatalf("Publish checkpoint: %v", err)
	}
	testkit.Eventually(t, wait, "pose and checkpoint at the broker", func() bool {
		return len(b.on("robots/r1/pose")) == 1 && len(b.on("robots/r1/checkpoint")) == 1
	})
	p, err := topics.DecodePose(b.on("robots/r1/pose")[0])
	if err != nil || *p.DistanceM != 0.75 || p.Sender != "r1" {
		t.Fatalf("pose at the broker: %+v, %v", p, err)
	}
	c, err := topics.DecodeCheckpoint(b.on("robots/r1/checkpoint")[0])
	if err != nil || c.Marker != 4 || c.Epoch != 3 {
		t.Fatalf("checkpoint at the broker: %+v, %v", c, err)
	}
	testkit.Eventually(t, wait, "checkpoint acked", func() bool { return l.Stats().Acked >= 1 })
}

func TestOrchestratorStatusFlipsOnline(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	b.beat(t, 4)
	l := dial(t, b.addr, nil)
	testkit.Eventually(t, wait, "connected", connected(l))
	online := func(want bool) func() bool {
		return func() bool { return l.State().OrchestratorOnline == want }
	}
	for i, step := range []struct {
		epoch uint64
		seq   uint64
		state string
		want  bool
	}{
		{3, 1, topics.OrchOnline, true},
		{3, 2, topics.OrchOffline, false}, // the orchestrator's last will
		{3, 3, topics.OrchOnline, true},
		{3, 0, topics.OrchOffline, false}, // a will carries an old seq: offline still applies
		{4, 1, topics.OrchOnline, true},   // a new run
	} {
		b.publish(t, topics.TopicOrchestratorStatus, &topics.OrchestratorState{Header: orch(step.seq), State: step.state, Epoch: step.epoch})
		testkit.Eventually(t, wait, "step "+string(rune('0'+i))+" "+step.state, online(step.want))
	}
	// An offline from an earlier run is stale and ignored; a message after
	// it tells when it has been handled.
	b.publish(t, topics.TopicOrchestratorStatus, &topics.OrchestratorState{Header: orch(9), State: topics.OrchOffline, Epoch: 3})
	b.publish(t, topics.TopicFleetCmd, &topics.FleetCommand{Header: orch(10), Epoch: 4, Kind: topics.FleetResume})
	testkit.Eventually(t, wait, "both received", func() bool { return l.Stats().Received >= 7 })
	if !l.State().OrchestratorOnline {
		t.Fatal("an offline status from epoch 3 overrode online from epoch 4")
	}
}

// The orchestrator is online only while its heartbeats arrive: a status
// that says online is not enough, and silence longer than OrchSilence takes
// it offline at once, with the reason, while the connection stays up (a
// half-open link, or an orchestrator whose loop stopped).
func TestOrchestratorSilenceIsOffline(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	b.publish(t, topics.TopicOrchestratorStatus, &topics.OrchestratorState{Header: orch(1), State: topics.OrchOnline, Epoch: 2})
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	l := dial(t, b.addr, func(o *link.Options) { o.Now = clock; o.OrchSilence = 800 * time.Millisecond })
	testkit.Eventually(t, wait, "connected", connected(l))
	testkit.Eventually(t, wait, "status received", func() bool { return l.Stats().Received >= 1 })
	if st := l.State(); st.OrchestratorOnline || !strings.Contains(st.Reason, "heartbeat") {
		t.Fatalf("online without a heartbeat: %+v", st)
	}
	hb := func(epoch, seq uint64) {
		p, _ := topics.Encode(&topics.OrchestratorHeartbeat{Header: orch(seq), Epoch: epoch})
		if err := b.srv.Publish(topics.TopicOrchestratorHeartbeat, p, false, 0); err != nil {
			t.Fatal(err)
		}
	}
	hb(2, 1)
	testkit.Eventually(t, wait, "heartbeat", func() bool { return l.Stats().Heartbeats == 1 })
	if st := l.State(); !st.OrchestratorOnline {
		t.Fatalf("offline right after a heartbeat: %+v", st)
	}
	advance(800 * time.Millisecond)
	if st := l.State(); !st.OrchestratorOnline {
		t.Fatalf("offline at exactly OrchSilence: %+v", st)
	}
	advance(time.Millisecond)
	if st := l.State(); st.OrchestratorOnline || !st.Connected || !strings.Contains(st.Reason, "no orchestrator heartbeat for") {
		t.Fatalf("after OrchSilence of silence: %+v, want connected, orchestrator offline with the reason", st)
	}
	// A heartbeat of an earlier run does not count.
	hb(1, 2)
	hb(2, 3) // sentinel: handled after the stale one (in order)
	testkit.Eventually(t, wait, "sentinel heartbeat", func() bool { return l.Stats().Heartbeats == 2 })
	if !l.State().OrchestratorOnline {
		t.Fatal("a fresh heartbeat did not bring the orchestrator back")
	}
	advance(time.Second)
	hb(1, 4)
	hb(1, 5)
	testkit.Eventually(t, wait, "stale heartbeats received", func() bool { return l.Stats().Received >= 6 })
	if st := l.State(); st.OrchestratorOnline {
		t.Fatalf("heartbeats of an earlier run kept the orchestrator online: %+v", st)
	}
}

// mochi answers a SUBSCRIBE with 0x91 (packet id in use) when one of its
// own QoS 1 deliveries holds that id; the link must take any code >= 0x80
// as a refusal, retry, and count the link connected only once every filter
// is granted. A packet id in use is retried at once, not after
// RetryInterval: with an hour's interval the link still connects.
func TestRefusedSubscribeIsRetried(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	refuse := &refuseHook{left: 2}
	if err := b.srv.AddHook(refuse, nil); err != nil {
		t.Fatal(err)
	}
	l := dial(t, b.addr, func(o *link.Options) { o.RetryInterval = time.Hour })
	testkit.Eventually(t, wait, "connected", connected(l))
	if r := l.Stats().SubscribeRetries; r < 2 {
		t.Fatalf("connected after %d subscribe retries, want >= 2 (two SUBSCRIBEs refused with 0x91)", r)
	}
	b.publish(t, topics.TopicOrchestratorStatus, &topics.OrchestratorState{Header: orch(1), State: topics.OrchOnline, Epoch: 1})
	b.beat(t, 1)
	testkit.Eventually(t, wait, "orchestrator online", func() bool { return l.State().OrchestratorOnline })
}

// refuseHook makes mochi refuse the first left SUBSCRIBE packets the way it
// does after a restart: the packet id is taken by an inflight message of
// the restored session, and mochi answers 0x91 on every filter, even to an
// MQTT 3.1.1 client.
type refuseHook struct {
	mqtt.HookBase
	mu   sync.Mutex
	left int
}

func (h *refuseHook) ID() string { return "refuse-subscribe" }
func (h *refuseHook) Provides(b byte) bool {
	return b == mqtt.OnSubscribe || b == mqtt.OnSubscribed
}
func (h *refuseHook) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cl.Net.Inline || h.left == 0 {
		return pk
	}
	h.left--
	cl.State.Inflight.Set(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1},
		PacketID: pk.PacketID, TopicName: "robots/r1/cmd"})
	return pk
}
func (h *refuseHook) OnSubscribed(cl *mqtt.Client, pk packets.Packet, _ []byte) {
	cl.State.Inflight.Delete(pk.PacketID)
}

func TestInvalidInboundDroppedAndCounted(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	l := dial(t, b.addr, nil)
	testkit.Eventually(t, wait, "connected", connected(l))
	for _, bad := range []string{
		`{"v":1,`,
		`{"v":1,"sender":"orchestrator","seq":1,"ts":"2026-11-26T23:00:00Z","epoch":1,"kind":"fly"}`,
		`{"v":1,"sender":"orchestrator","seq":1,"ts":"2026-11-26T23:00:00Z","epoch":1,"kind":"route","route":[-1]}`,
	} {
		if err := b.srv.Publish("robots/r1/cmd", []byte(bad), false, 1); err != nil {
			t.Fatal(err)
		}
	}
	b.publish(t, topics.Robot("r1", topics.KindCmd), &topics.Directive{Header: orch(5), Epoch: 1, Kind: topics.DirHold})
	in := receive(t, l)
	if in.Directive == nil || in.Directive.Kind != topics.DirHold {
		t.Fatalf("inbound %+v, want the valid hold", in)
	}
	testkit.Eventually(t, wait, "3 invalid counted", func() bool { return l.Stats().Invalid == 3 })
	select {
	case in := <-l.Inbox():
		t.Fatalf("an invalid directive reached the inbox: %+v", in)
	default:
	}
}

func TestInboxCoalescesWhenFull(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	l := dial(t, b.addr, func(o *link.Options) { o.InboxSize = 2 })
	testkit.Eventually(t, wait, "connected", connected(l))
	const n = 6
	for seq := uint64(1); seq <= n; seq++ {
		b.publish(t, topics.Robot("r1", topics.KindCmd), &topics.Directive{Header: orch(seq), Epoch: 1, Kind: topics.DirHold})
	}
	testkit.Eventually(t, wait, "all received", func() bool { return l.Stats().Received == n })
	var got []uint64
	for len(got)+int(l.Stats().Coalesced) < n {
		got = append(got, receive(t, l).Directive.Seq)
	}
	if c := l.Stats().Coalesced; c == 0 || len(got)+int(c) != n {
		t.Fatalf("delivered %v and coalesced %d of %d", got, c, n)
	}
	var newest uint64
	for _, s := range got {
		newest = max(newest, s)
	}
	if newest != n {
		t.Fatalf("the newest directive was coalesced away: delivered %v", got)
	}
}

func TestDisconnectWhenBrokerStops(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	l := dial(t, b.addr, nil)
	testkit.Eventually(t, wait, "connected", connected(l))
	b.publish(t, topics.TopicOrchestratorStatus, &topics.OrchestratorState{Header: orch(1), State: topics.OrchOnline, Epoch: 1})
	b.beat(t, 1)
	testkit.Eventually(t, wait, "orchestrator online", func() bool { return l.State().OrchestratorOnline })
	before := time.Now()
	b.stop()
	testkit.Eventually(t, wait, "disconnected", func() bool { return !l.State().Connected })
	st := l.State()
	if st.OrchestratorOnline {
		t.Fatal("orchestrator still online after the connection was lost")
	}
	if st.LostAt.Before(before) {
		t.Fatalf("LostAt %v is before the broker stopped (%v)", st.LostAt, before)
	}
	err := l.Publish(topics.KindPose, &topics.Pose{Header: l.Stamp(topics.KindPose), State: topics.StateFailsafe})
	if !errors.Is(err, link.ErrNotConnected) {
		t.Fatalf("pose while disconnected: %v, want ErrNotConnected", err)
	}
	if l.Stats().DroppedOffline != 1 {
		t.Fatalf("DroppedOffline %d, want 1", l.Stats().DroppedOffline)
	}
}

// A checkpoint published while the broker is down is in the on-disk store
// and reaches the restarted broker exactly once.
func TestCheckpointWhileBrokerDownIsDeliveredOnce(t *testing.T) {
	b1 := startBroker(t, "127.0.0.1:0")
	addr := b1.addr
	l := dial(t, addr, nil)
	testkit.Eventually(t, wait, "connected", connected(l))
	b1.stop()
	testkit.Eventually(t, wait, "disconnected", func() bool { return !l.State().Connected })

	cp := &topics.Checkpoint{Header: l.Stamp(topics.KindCheckpoint), Epoch: 2, Marker: 9, Step: 3, Final: true}
	if err := l.Publish(topics.KindCheckpoint, cp); err != nil {
		t.Fatalf("Publish while down: %v", err)
	}

	b2 := startBroker(t, addr) // same port, fresh state: only the client's store can deliver it
	testkit.Eventually(t, wait, "reconnected", connected(l))
	testkit.Eventually(t, wait, "checkpoint delivered", func() bool { return len(b2.on("robots/r1/checkpoint")) >= 1 })
	// A second checkpoint after the first one is acknowledged bounds the
	// window in which a duplicate of the first could still arrive.
	testkit.Eventually(t, wait, "first acked", func() bool { return l.Stats().Acked >= 1 })
	if err := l.Publish(topics.KindCheckpoint, &topics.Checkpoint{Header: l.Stamp(topics.KindCheckpoint), Epoch: 2, Marker: 1, Step: 4}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, wait, "second delivered", func() bool { return len(b2.on("robots/r1/checkpoint")) >= 2 })
	got := b2.on("robots/r1/checkpoint")
	if len(got) != 2 {
		t.Fatalf("broker got %d checkpoints, want exactly 2", len(got))
	}
	first, err := topics.DecodeCheckpoint(got[0])
	if err != nil || first.Marker != 9 || first.Step != 3 || !first.Final || first.Seq != cp.Seq {
		t.Fatalf("first checkpoint %+v, %v; want %+v", first, err, cp)
	}
}

// A checkpoint in the store of a link that was closed while the broker was
// down is sent by the next link on the same store dir: a robot that reboots
// keeps its outbox.
func TestOutboxSurvivesRestartOfTheLink(t *testing.T) {
	b1 := startBroker(t, "127.0.0.1:0")
	addr := b1.addr
	store := t.TempDir()
	l1 := dial(t, addr, func(o *link.Options) { o.StoreDir = store })
	testkit.Eventually(t, wait, "connected", connected(l1))
	b1.stop()
	testkit.Eventually(t, wait, "disconnected", func() bool { return !l1.State().Connected })
	if err := l1.Publish(topics.KindCheckpoint, &topics.Checkpoint{Header: l1.Stamp(topics.KindCheckpoint), Epoch: 5, Marker: 2, Step: 0}); err != nil {
		t.Fatal(err)
	}
	if err := l1.Close(); err != nil {
		t.Fatalf("Close while down: %v", err)
	}

	b2 := startBroker(t, addr)
	l2 := dial(t, addr, func(o *link.Options) { o.StoreDir = store })
	testkit.Eventually(t, wait, "second link connected", connected(l2))
	testkit.Eventually(t, wait, "stored checkpoint delivered", func() bool { return len(b2.on("robots/r1/checkpoint")) == 1 })
	c, err := topics.DecodeCheckpoint(b2.on("robots/r1/checkpoint")[0])
	if err != nil || c.Epoch != 5 || c.Marker != 2 {
		t.Fatalf("checkpoint %+v, %v", c, err)
	}
}

func TestLastWillOnUncleanDeath(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	p := testkit.StartProxy(t, b.addr)
	l := dial(t, p.Addr, nil)
	testkit.Eventually(t, wait, "connected", connected(l))
	if n := len(b.on("robots/r1/status")); n != 0 {
		t.Fatalf("%d status messages before the link died", n)
	}
	p.Cut()
	testkit.Eventually(t, wait, "last will at the broker", func() bool { return len(b.on("robots/r1/status")) >= 1 })
	s, err := topics.DecodeStatus(b.on("robots/r1/status")[0])
	if err != nil {
		t.Fatalf("the will is not a valid status: %v", err)
	}
	if s.State != topics.StateOffline || s.Sender != "r1" || s.Faces == nil || s.Faces.Front != 100 {
		t.Fatalf("will %+v, want r1 offline with its faces", s)
	}
	testkit.Eventually(t, wait, "link sees the loss", func() bool { return l.Stats().ConnectionsLost >= 1 })
	testkit.Eventually(t, wait, "link reconnects through the proxy", connected(l))
}

func TestCloseSaysOffline(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	l := dial(t, b.addr, nil)
	testkit.Eventually(t, wait, "connected", connected(l))
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close waited for the PUBACK; the broker may route to subscribers just after.
	testkit.Eventually(t, wait, "offline status at the broker", func() bool { return len(b.on("robots/r1/status")) >= 1 })
	got := b.on("robots/r1/status")
	if len(got) != 1 {
		t.Fatalf("%d status messages after Close, want only the offline one", len(got))
	}
	if s, err := topics.DecodeStatus(got[0]); err != nil || s.State != topics.StateOffline {
		t.Fatalf("status after Close: %+v, %v", s, err)
	}
	if _, ok := <-l.Inbox(); ok {
		t.Fatal("inbox still open after Close")
	}
	if err := l.Publish(topics.KindEvents, &topics.Event{Header: l.Stamp(topics.KindEvents), Kind: topics.EventFault}); err == nil {
		t.Fatal("Publish after Close succeeded")
	}
}

func TestPublishRejects(t *testing.T) {
	// No broker: validation happens before anything is sent.
	l := dial(t, "127.0.0.1:1", nil)
	h := l.Stamp(topics.KindPose)
	other := topics.Stamp("r2", 1, t0)
	for _, tc := range []struct {
		desc    string
		kind    topics.Kind
		msg     topics.Message
		wantErr string
	}{
		{"NaN", topics.KindPose, &topics.Pose{Header: h, State: topics.StateMoving, SpeedMps: math.NaN()}, "pose: speed_mps must be a finite number, got NaN"},
		{"negative distance", topics.KindEvents, &topics.Event{Header: h, Kind: topics.EventYield, DistanceM: ptr(-1.0)}, "event: distance_m must be >= 0, got -1"},
		{"not a robot kind", topics.KindCmd, &topics.Directive{Header: h, Kind: topics.DirHold}, `a robot does not publish "cmd"`},
		{"fixed kind", topics.KindFleetMap, &topics.FleetMap{Header: h, DiameterM: 1, Scale: 1}, `a robot does not publish "fleet/map"`},
		{"wrong type for kind", topics.KindCheckpoint, &topics.Pose{Header: h, State: topics.StateMoving}, "message is *topics.Pose, not a checkpoint message"},
		{"another robot's header", topics.KindCheckpoint, &topics.Checkpoint{Header: other, Marker: 1}, `sender "r2" is not this robot "r1"`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			err := l.Publish(tc.kind, tc.msg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Publish: %v, want %q", err, tc.wantErr)
			}
		})
	}
	if s := l.Stats(); s.Published != 0 {
		t.Fatalf("rejected messages were published: %+v", s)
	}
}

func ptr[T any](v T) *T { return &v }

func TestDialRejects(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		opts    link.Options
		wantErr string
	}{
		{"bad id", link.Options{BrokerURL: "tcp://127.0.0.1:1", RobotID: "r/1"}, `robot id "r/1" must match`},
		{"no id", link.Options{BrokerURL: "tcp://127.0.0.1:1"}, `robot id "" must match`},
		{"bad scheme", link.Options{BrokerURL: "http://127.0.0.1:1", RobotID: "r1"}, "scheme must be tcp, tls, ws or wss"},
		{"CA on plain tcp", link.Options{BrokerURL: "tcp://127.0.0.1:1", RobotID: "r1", CAFile: "ca.pem"}, "not tls:// or wss://"},
		{"missing CA", link.Options{BrokerURL: "tls://127.0.0.1:1", RobotID: "r1", CAFile: "/nonexistent/ca.pem"}, "CA file"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			l, err := link.Dial(tc.opts)
			if err == nil {
				l.Close()
				t.Fatalf("Dial accepted %+v", tc.opts)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Dial error %q, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestStampSeqIncreasesPerKind(t *testing.T) {
	l := dial(t, "127.0.0.1:1", func(o *link.Options) { o.Now = func() time.Time { return t0 } })
	a, b, c := l.Stamp(topics.KindPose), l.Stamp(topics.KindPose), l.Stamp(topics.KindCheckpoint)
	if a.Sender != "r1" || !a.TS.Equal(t0) || a.V != topics.Version {
		t.Fatalf("header %+v", a)
	}
	if b.Seq != a.Seq+1 || c.Seq != a.Seq {
		t.Fatalf("seqs pose %d, %d; checkpoint %d: want per-kind counters from the same base", a.Seq, b.Seq, c.Seq)
	}
	if a.Seq <= uint64(t0.UnixMilli()) {
		t.Fatalf("seq %d does not start after the Dial time in ms", a.Seq)
	}
}

// A broker may keep a connection that it routes nothing to (mochi, thawed
// after a freeze, handling a robot's dead connection and its new one at
// once): the robot, connected by its own account and its pings answered,
// hears no heartbeat and stays stopped. After DeafAfter the link
// reconnects, subscribes again, and hears the orchestrator.
func TestDeafConnectionReconnects(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	b.publish(t, topics.TopicOrchestratorStatus, &topics.OrchestratorState{Header: orch(1), State: topics.OrchOnline, Epoch: 1})
	b.beat(t, 1)
	l := dial(t, b.addr, func(o *link.Options) { o.DeafAfter = 400 * time.Millisecond })
	testkit.Eventually(t, wait, "heartbeats", func() bool { return l.Stats().Heartbeats >= 3 })
	// The broker stops routing the heartbeat to r1; the connection lives.
	if !b.srv.Topics.Unsubscribe(topics.TopicOrchestratorHeartbeat, "r1") {
		t.Fatal("r1 was not subscribed to the heartbeat")
	}
	before := l.Stats().Heartbeats
	testkit.Eventually(t, wait, "a reconnection for want of a heartbeat", func() bool { return l.Stats().DeafReconnects >= 1 })
	testkit.Eventually(t, wait, "heartbeats again", func() bool { return l.Stats().Heartbeats >= before+3 })
	if st := l.State(); !st.Connected || !st.OrchestratorOnline {
		t.Fatalf("after the reconnection: %+v, want connected and the orchestrator online", st)
	}
}
