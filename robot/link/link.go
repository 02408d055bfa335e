package link

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/rs/zerolog"

	"collaborate/topics"
)

// ErrNotConnected is returned by Publish for a QoS 0 message while the
// broker is unreachable: the message is dropped, not queued.
var ErrNotConnected = errors.New("link: not connected, QoS 0 message dropped")

// Options configure a Link. BrokerURL and RobotID are required.
type Options struct {
	// BrokerURL is tcp://host:1883, tls://host:8883, ws://host:port/path or
	// wss://, or a comma-separated list of them (the nodes of a broker
	// cluster): a lost connection is made again to the first that answers,
	// in the list's order.
	BrokerURL string
	RobotID   string // also the MQTT username and client id
	Password  string
	CAFile    string // PEM bundle to trust for tls:// and wss://; empty: system roots
	StoreDir  string // on-disk outbox for QoS 1; empty keeps it in memory (lost with the process)

	// KeepAlive is the MQTT keepalive, default 3 s; with PingTimeout (default
	// 2 s) paho finds a dead connection within about 5 s and reconnects.
	// Safety does not wait for it: the robot stops after OrchSilence
	// without an orchestrator heartbeat.
	KeepAlive      time.Duration
	PingTimeout    time.Duration
	OrchSilence    time.Duration // default topics.OrchestratorSilence
	ConnectTimeout time.Duration // one connection attempt, default 5 s
	RetryInterval  time.Duration // between connection attempts, and the longest reconnect back-off, default 2 s
	OpTimeout      time.Duration // WaitTimeout of every token the link waits for, default 5 s
	InboxSize      int           // queued inbound messages before coalescing, default 64
	// DeafAfter: connected and subscribed, but no orchestrator heartbeat
	// for this long, the link reconnects (then waits twice as long before
	// the next time, up to a minute, until a heartbeat comes). A broker can
	// keep a connection that it routes nothing to: mochi, thawed after a
	// freeze, may handle a robot's dead connection and its new one at once.
	// Safety does not wait for it (OrchSilence stops the robot); the robot
	// gets going again once it hears the orchestrator. Default 10 s.
	DeafAfter time.Duration

	Version string          // robot software version, in the offline status
	Faces   *topics.FaceIDs // face marker ids, in the offline status

	Now    func() time.Time // default time.Now
	Logger *zerolog.Logger  // default: discard; it should name the robot (zerolog's With)
}

func (o *Options) defaults() {
	if o.KeepAlive <= 0 {
		o.KeepAlive = 3 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 2 * time.Second
	}
	if o.OrchSilence <= 0 {
		o.OrchSilence = topics.OrchestratorSilence
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = 2 * time.Second
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = 5 * time.Second
	}
	if o.InboxSize <= 0 {
		o.InboxSize = 64
	}
	if o.DeafAfter <= 0 {
		o.DeafAfter = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// LinkState is what the pilot's failsafe reads every control tick: stop
// unless Connected and OrchestratorOnline.
type LinkState struct {
	Connected bool // connected and subscribed
	// OrchestratorOnline: orchestrator/status said online since the last
	// connect, and an orchestrator/heartbeat arrived within OrchSilence.
	OrchestratorOnline bool
	Reason             string    // why not, when either is false
	LostAt             time.Time // when the connection was last lost; Dial time before the first connect
}

// Incoming is one valid inbound message. Exactly one of the pointers is set,
// according to Kind.
type Incoming struct {
	Topic    string
	Kind     topics.Kind
	Retained bool

	Directive    *topics.Directive             // robots/{id}/cmd
	FleetCommand *topics.FleetCommand          // fleet/cmd
	FleetMap     *topics.FleetMap              // fleet/map
	Orchestrator *topics.OrchestratorState     // orchestrator/status
	Heartbeat    *topics.OrchestratorHeartbeat // orchestrator/heartbeat (never queued: State reflects it)
}

// Stats are the link's counters since Dial.
type Stats struct {
	Received  uint64 // inbound messages seen
	Invalid   uint64 // inbound dropped: bad topic or payload
	Coalesced uint64 // inbound replaced by a newer one of the same kind while the queue was full

	Published      uint64 // handed to paho (QoS 1: in the store)
	Acked          uint64 // QoS 1 acknowledged by the broker
	PublishErrors  uint64 // paho refused or failed a publish
	DroppedOffline uint64 // QoS 0 dropped while disconnected

	Connects         uint64 // successful (re)connects, subscriptions included
	ConnectionsLost  uint64
	SubscribeRetries uint64 // SUBSCRIBEs refused or unanswered, tried again
	Heartbeats       uint64 // orchestrator heartbeats received
	DeafReconnects   uint64 // reconnections for want of a heartbeat while connected (DeafAfter)
}

type counters struct {
	received, invalid, coalesced                    atomic.Uint64
	published, acked, publishErrors, droppedOffline atomic.Uint64
	connects, connectionsLost, subscribeRetries     atomic.Uint64
	heartbeats                                      atomic.Uint64
	deafReconnects                                  atomic.Uint64
}

// Link is one robot's MQTT connection. Its methods are safe for concurrent
// use.
type Link struct {
	opts   Options
	id     string
	log    zerolog.Logger
	client mqtt.Client
	will   []byte

	mu         sync.Mutex
	state      LinkState
	gen        uint64 // connection generation: bumped on connect and on loss
	orchEpoch  uint64 // newest orchestrator/status applied since the last connect
	orchSeq    uint64
	orchOnline bool      // the newest orchestrator/status said online
	hbAt       time.Time // arrival of the last orchestrator heartbeat since the last connect
	subAt      time.Time // when the link last got connected and subscribed
	hbEpoch    uint64
	queue      []Incoming
	closed     bool

	seqMu   sync.Mutex
	seqBase uint64
	seq     map[topics.Kind]uint64

	wake  chan struct{}
	inbox chan Incoming
	done  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once

	n counters
}

// Dial validates the options, sets the last will and starts connecting in
// the background. It does not wait for the broker: State().Connected tells
// when the link is up. Errors are configuration errors only.
func Dial(opts Options) (*Link, error) {
	opts.defaults()
	if err := topics.CheckRobotID(opts.RobotID); err != nil {
		return nil, fmt.Errorf("link: %w", err)
	}
	var brokers []string
	secure := false
	for _, b := range strings.Split(opts.BrokerURL, ",") {
		if b = strings.TrimSpace(b); b == "" {
			continue
		}
		u, err := url.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("link: broker url %q: %w", b, err)
		}
		switch u.Scheme {
		case "tcp", "mqtt", "ws":
		case "tls", "ssl", "mqtts", "wss":
			secure = true
		default:
			return nil, fmt.Errorf("link: broker url %q: scheme must be tcp, tls, ws or wss", b)
		}
		brokers = append(brokers, b)
	}
	if len(brokers) == 0 {
		return nil, fmt.Errorf("link: no broker url in %q", opts.BrokerURL)
	}
	if opts.CAFile != "" && !secure {
		return nil, fmt.Errorf("link: a CA file is given but broker url %q is not tls:// or wss://", opts.BrokerURL)
	}

	l := &Link{
		opts:  opts,
		id:    opts.RobotID,
		log:   zerolog.Nop(),
		seq:   map[topics.Kind]uint64{},
		wake:  make(chan struct{}, 1),
		inbox: make(chan Incoming),
		done:  make(chan struct{}),
	}
	if opts.Logger != nil {
		l.log = *opts.Logger // the caller's logger names the robot
	}
	now := opts.Now()
	// Seq grows across restarts of the robot: it starts at the Dial time in
	// milliseconds, so a receiver that remembers the last seq keeps working.
	l.seqBase = uint64(max(now.UnixMilli(), 0))
	l.state.LostAt = now

	will, err := topics.Encode(l.offlineStatus(topics.Stamp(l.id, l.seqBase, now), "connection lost"))
	if err != nil {
		return nil, fmt.Errorf("link: last will: %w", err)
	}
	l.will = will

	co := mqtt.NewClientOptions()
	for _, b := range brokers {
		co.AddBroker(b)
	}
	co.
		// MQTT 3.1.1 only: paho's default falls back to 3.1 after a failed
		// CONNECT, which a NATS node answers by closing the connection,
		// and the next attempt waits a whole retry interval.
		SetProtocolVersion(4).
		SetClientID(l.id).
		SetUsername(l.id).
		SetPassword(opts.Password).
		SetCleanSession(false).
		// In order: the handler never blocks (it only queues), so paho's
		// one delivery goroutine costs nothing, and directives reach the
		// pilot in the order the broker sent them.
		SetOrderMatters(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(opts.RetryInterval).
		SetMaxReconnectInterval(opts.RetryInterval).
		SetConnectTimeout(opts.ConnectTimeout).
		SetKeepAlive(opts.KeepAlive).
		SetPingTimeout(opts.PingTimeout).
		SetWriteTimeout(opts.OpTimeout).
		SetBinaryWill(topics.Robot(l.id, topics.KindStatus), will, topics.PolicyOf(topics.KindStatus).QoS, topics.PolicyOf(topics.KindStatus).Retained).
		SetDefaultPublishHandler(l.onMessage).
		SetOnConnectHandler(l.onConnect).
		SetConnectionLostHandler(l.onLost)
	if opts.StoreDir != "" {
		if err := os.MkdirAll(opts.StoreDir, 0o700); err != nil {
			return nil, fmt.Errorf("link: store dir: %w", err)
		}
		co.SetStore(mqtt.NewFileStore(opts.StoreDir))
	}
	if secure {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if opts.CAFile != "" {
			pem, err := os.ReadFile(opts.CAFile)
			if err != nil {
				return nil, fmt.Errorf("link: CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("link: CA file %s holds no PEM certificate", opts.CAFile)
			}
			tc.RootCAs = pool
		}
		co.SetTLSConfig(tc)
	}
	l.client = mqtt.NewClient(co)

	l.wg.Add(3)
	go l.pump()
	go l.connect()
	go l.watchDeaf()
	return l, nil
}

// connect makes the first connection; paho retries until it succeeds or the
// link is closed, and reconnects by itself after that.
func (l *Link) connect() {
	defer l.wg.Done()
	l.dial()
}

// dial connects and waits until paho has, or the link is closed.
func (l *Link) dial() {
	tok := l.client.Connect()
	for !tok.WaitTimeout(l.opts.OpTimeout) {
		select {
		case <-l.done:
			return
		default:
		}
	}
	if err := tok.Error(); err != nil {
		l.log.Error().Err(err).Str("broker", l.opts.BrokerURL).Msg("mqtt connect failed")
	}
}

func (l *Link) offlineStatus(h topics.Header, reason string) *topics.Status {
	return &topics.Status{Header: h, State: topics.StateOffline, Version: l.opts.Version, Faces: l.opts.Faces, Reason: reason}
}

// Stamp returns a header for the next message of a kind: this robot as
// sender, the next seq of that kind, and Options.Now.
func (l *Link) Stamp(k topics.Kind) topics.Header {
	l.seqMu.Lock()
	defer l.seqMu.Unlock()
	if l.seq[k] == 0 {
		l.seq[k] = l.seqBase
	}
	l.seq[k]++
	return topics.Stamp(l.id, l.seq[k], l.opts.Now())
}

// subscriptions are what a robot listens to, each at its topic's QoS, in
// two SUBSCRIBEs: the retained topics first, the heartbeat once they are
// granted. A broker sends a SUBSCRIBE's retained messages after its SUBACK,
// one filter after another, so a heartbeat could otherwise come between a
// retained route and the retained fleet stop, and the robot would move on
// the route before it hears the stop; subscribed last, the first heartbeat
// (the robot moves only once it hears one) comes after every retained
// message.
func (l *Link) subscriptions() []map[string]byte {
	return []map[string]byte{{
		topics.Robot(l.id, topics.KindCmd): topics.PolicyOf(topics.KindCmd).QoS,
		topics.TopicFleetCmd:               topics.PolicyOf(topics.KindFleetCmd).QoS,
		topics.TopicFleetMap:               topics.PolicyOf(topics.KindFleetMap).QoS,
		topics.TopicOrchestratorStatus:     topics.PolicyOf(topics.KindOrchestratorStatus).QoS,
	}, {
		topics.TopicOrchestratorHeartbeat: topics.PolicyOf(topics.KindOrchestratorHeartbeat).QoS,
	}}
}

// onConnect runs in its own goroutine (paho starts it) after every
// (re)connect. The link counts as connected once the broker has granted
// every subscription.
func (l *Link) onConnect(c mqtt.Client) {
	l.mu.Lock()
	l.gen++
	gen := l.gen
	l.orchEpoch, l.orchSeq = 0, 0 // a new orchestrator run may start its seq again
	l.orchOnline, l.hbAt, l.hbEpoch = false, time.Time{}, 0
	l.mu.Unlock()

	quick := 0
	for _, subs := range l.subscriptions() {
		for {
			if l.isClosed() || !c.IsConnectionOpen() || l.generation() != gen {
				return
			}
			err := l.subscribe(c, subs)
			if err == nil {
				break
			}
			l.n.subscribeRetries.Add(1)
			delay := l.opts.RetryInterval
			var r *refusal
			if errors.As(err, &r) && r.code == idInUse && quick < idInUseRetries {
				// mochi shares one packet id space between the client's
				// SUBSCRIBEs and its own QoS 1 deliveries: a SUBSCRIBE
				// sent while the retained messages of the first one are
				// in flight may take an id they hold. The next SUBSCRIBE
				// has another id: try again at once.
				quick++
				delay = idInUseDelay
				l.log.Info().Err(err).Msg("mqtt subscribe refused: packet id in use at the broker, retrying")
			} else {
				l.log.Error().Err(err).Msg("mqtt subscribe failed, retrying")
			}
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-l.done:
				t.Stop()
				return
			}
		}
	}
	l.mu.Lock()
	ok := l.gen == gen && !l.closed // not lost or closed while subscribing
	if ok {
		l.state.Connected = true
		l.subAt = l.opts.Now()
	}
	l.mu.Unlock()
	if ok {
		l.n.connects.Add(1)
		l.log.Info().Str("broker", l.opts.BrokerURL).Msg("mqtt connected and subscribed")
	}
}

func (l *Link) subscribe(c mqtt.Client, subs map[string]byte) error {
	tok := c.SubscribeMultiple(subs, l.onMessage)
	if !tok.WaitTimeout(l.opts.OpTimeout) {
		return fmt.Errorf("subscribe: no SUBACK within %v", l.opts.OpTimeout)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		for filter, code := range st.Result() {
			// Any code >= 0x80 is a refusal: 0x80 in MQTT 3.1.1, and mochi
			// answers 0x91 (packet id in use) even to a 3.1.1 client when
			// one of its own QoS 1 deliveries holds that id.
			if code >= 0x80 {
				return &refusal{filter: filter, code: code}
			}
		}
	}
	return nil
}

// refusal is a SUBACK code >= 0x80 for a filter.
type refusal struct {
	filter string
	code   byte
}

func (r *refusal) Error() string {
	return fmt.Sprintf("subscribe %s: refused by the broker (code 0x%02x)", r.filter, r.code)
}

// idInUse is the SUBACK code of a packet id in use; after such a refusal
// the link tries again after idInUseDelay, up to idInUseRetries times per
// connection, then every RetryInterval.
const (
	idInUse        = 0x91
	idInUseDelay   = 50 * time.Millisecond
	idInUseRetries = 10
)

// watchDeaf reconnects a link that is connected but hears no orchestrator
// heartbeat for DeafAfter (Options.DeafAfter), with a back-off.
func (l *Link) watchDeaf() {
	defer l.wg.Done()
	t := time.NewTicker(l.opts.DeafAfter / 4)
	defer t.Stop()
	after := l.opts.DeafAfter
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		}
		now := l.opts.Now()
		l.mu.Lock()
		since := l.hbAt
		if since.IsZero() {
			since = l.subAt
		}
		heard := !l.hbAt.IsZero()
		deaf := l.state.Connected && !l.closed && now.Sub(since) > after
		l.mu.Unlock()
		if heard && !deaf {
			after = l.opts.DeafAfter
		}
		if !deaf {
			continue
		}
		l.n.deafReconnects.Add(1)
		l.log.Warn().Dur("silent", now.Sub(since).Round(time.Millisecond)).
			Msg("mqtt connected but no orchestrator heartbeat: reconnecting (the broker may route nothing to this connection)")
		l.reconnect()
		after = min(2*after, time.Minute)
	}
}

// lost records that the connection is gone: nothing heard on it counts.
func (l *Link) lost() {
	l.mu.Lock()
	l.gen++
	l.state.Connected = false
	l.orchOnline, l.hbAt = false, time.Time{}
	l.state.LostAt = l.opts.Now()
	l.mu.Unlock()
}

// reconnect drops the connection and makes it again.
func (l *Link) reconnect() {
	if l.isClosed() {
		return
	}
	l.lost()
	l.client.Disconnect(250)
	l.dial()
	if l.isClosed() {
		l.client.Disconnect(250) // closed meanwhile: do not stay connected
	}
}

func (l *Link) onLost(_ mqtt.Client, err error) {
	l.lost()
	l.n.connectionsLost.Add(1)
	l.log.Warn().Err(err).Msg("mqtt connection lost")
}

func (l *Link) generation() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gen
}

func (l *Link) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// State is the failsafe's view of the link. Cheap; call it every tick.
func (l *Link) State() LinkState {
	now := l.opts.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.state
	switch {
	case !st.Connected:
		st.Reason = "broker connection lost"
	case !l.orchOnline:
		st.Reason = "orchestrator offline"
	case l.hbAt.IsZero():
		st.Reason = "no orchestrator heartbeat yet"
	case now.Sub(l.hbAt) > l.opts.OrchSilence:
		st.Reason = fmt.Sprintf("no orchestrator heartbeat for %v", now.Sub(l.hbAt).Round(time.Millisecond))
	default:
		st.OrchestratorOnline = true
	}
	return st
}

// Stats returns the counters.
func (l *Link) Stats() Stats {
	return Stats{
		Received:         l.n.received.Load(),
		Invalid:          l.n.invalid.Load(),
		Coalesced:        l.n.coalesced.Load(),
		Published:        l.n.published.Load(),
		Acked:            l.n.acked.Load(),
		PublishErrors:    l.n.publishErrors.Load(),
		DroppedOffline:   l.n.droppedOffline.Load(),
		Connects:         l.n.connects.Load(),
		ConnectionsLost:  l.n.connectionsLost.Load(),
		SubscribeRetries: l.n.subscribeRetries.Load(),
		Heartbeats:       l.n.heartbeats.Load(),
		DeafReconnects:   l.n.deafReconnects.Load(),
	}
}

// Inbox delivers valid inbound messages. It is closed by Close.
func (l *Link) Inbox() <-chan Incoming { return l.inbox }

// Publish validates msg with topics.Encode and publishes it on
// robots/{id}/{kind} with the kind's QoS and retain flag. The header's sender
// must be this robot (see Stamp).
//
// QoS 1 (status, checkpoint, events): nil means the message is in the
// outbox (on disk with StoreDir); paho delivers it, after a reconnect if need
// be. Publish does not wait for the PUBACK, so it never stalls a control
// loop, and it never republishes by itself. QoS 0 (pose, sightings): sent
// now, or dropped with ErrNotConnected while disconnected.
func (l *Link) Publish(kind topics.Kind, msg topics.Message) error {
	if !slices.Contains(topics.RobotPublishes, kind) {
		return fmt.Errorf("link: a robot does not publish %q", kind)
	}
	if msg == nil || msg.TopicKind() != kind {
		return fmt.Errorf("link: publish %s: message is %T, not a %s message", kind, msg, kind)
	}
	b, err := topics.Encode(msg)
	if err != nil {
		return fmt.Errorf("link: publish %s: %w", kind, err)
	}
	h := topics.HeaderOf(msg)
	if h.Sender != l.id {
		return fmt.Errorf("link: publish %s: sender %q is not this robot %q", kind, h.Sender, l.id)
	}
	// The link's own messages of this kind (the offline status at Close)
	// go on above the caller's seq: one topic, one increasing seq.
	l.seqMu.Lock()
	l.seq[kind] = max(l.seq[kind], h.Seq)
	l.seqMu.Unlock()
	if l.isClosed() {
		return errors.New("link: closed")
	}
	p := topics.PolicyOf(kind)
	if p.QoS == 0 && !l.client.IsConnectionOpen() {
		l.n.droppedOffline.Add(1)
		return ErrNotConnected
	}
	tok := l.client.Publish(topics.Robot(l.id, kind), p.QoS, p.Retained, b)
	if p.QoS == 0 {
		if !tok.WaitTimeout(l.opts.OpTimeout) {
			l.n.publishErrors.Add(1)
			return fmt.Errorf("link: publish %s: not written within %v", kind, l.opts.OpTimeout)
		}
		if err := tok.Error(); err != nil {
			l.n.publishErrors.Add(1)
			return fmt.Errorf("link: publish %s: %w", kind, err)
		}
		l.n.published.Add(1)
		return nil
	}
	// A token that failed at once (not connected and not reconnecting, or no
	// message id free) never reached the store.
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			l.n.publishErrors.Add(1)
			return fmt.Errorf("link: publish %s: %w", kind, err)
		}
		l.n.published.Add(1)
		l.n.acked.Add(1)
		return nil
	default:
	}
	l.n.published.Add(1)
	l.mu.Lock()
	if l.closed {
		// Closed meanwhile: the message stays in the store for the next Dial.
		l.mu.Unlock()
		return nil
	}
	l.wg.Add(1) // under mu, so that Close's Wait never races an Add
	l.mu.Unlock()
	go l.watch(kind, tok)
	return nil
}

// watch counts the outcome of a QoS 1 publish that is still in flight.
func (l *Link) watch(kind topics.Kind, tok mqtt.Token) {
	defer l.wg.Done()
	for !tok.WaitTimeout(l.opts.OpTimeout) {
		select {
		case <-l.done:
			return // still in the store; a later Dial on the same StoreDir sends it
		default:
		}
	}
	if err := tok.Error(); err != nil {
		l.n.publishErrors.Add(1)
		l.log.Error().Err(err).Str("kind", string(kind)).Msg("mqtt publish failed")
		return
	}
	l.n.acked.Add(1)
}

// onMessage is paho's handler for every subscription. It never blocks.
func (l *Link) onMessage(_ mqtt.Client, m mqtt.Message) {
	l.n.received.Add(1)
	in, err := l.decode(m.Topic(), m.Payload())
	if err != nil {
		l.n.invalid.Add(1)
		l.log.Warn().Err(err).Str("topic", m.Topic()).Int("bytes", len(m.Payload())).Msg("inbound message dropped")
		return
	}
	in.Retained = m.Retained()
	if in.Heartbeat != nil {
		l.heartbeat(in.Heartbeat)
		return
	}
	if in.Orchestrator != nil {
		l.applyOrchestrator(in.Orchestrator)
	}
	l.enqueue(in)
}

// heartbeat records an orchestrator heartbeat's arrival. One from an
// earlier orchestrator run than the status in force is ignored.
func (l *Link) heartbeat(h *topics.OrchestratorHeartbeat) {
	now := l.opts.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if h.Epoch < l.orchEpoch {
		return
	}
	l.n.heartbeats.Add(1)
	l.hbAt, l.hbEpoch = now, h.Epoch
}

func (l *Link) decode(topic string, payload []byte) (Incoming, error) {
	t, err := topics.Parse(topic)
	if err != nil {
		return Incoming{}, err
	}
	in := Incoming{Topic: topic, Kind: t.Kind}
	switch t.Kind {
	case topics.KindCmd:
		if t.Robot != l.id {
			return in, fmt.Errorf("directive for robot %q received by %q", t.Robot, l.id)
		}
		in.Directive, err = topics.DecodeDirective(payload)
	case topics.KindFleetCmd:
		in.FleetCommand, err = topics.DecodeFleetCommand(payload)
	case topics.KindFleetMap:
		in.FleetMap, err = topics.DecodeFleetMap(payload)
	case topics.KindOrchestratorStatus:
		in.Orchestrator, err = topics.DecodeOrchestratorState(payload)
	case topics.KindOrchestratorHeartbeat:
		in.Heartbeat, err = topics.DecodeOrchestratorHeartbeat(payload)
	default:
		return in, fmt.Errorf("topic %q is not one a robot subscribes to", topic)
	}
	return in, err
}

// applyOrchestrator updates OrchestratorOnline. Handlers run concurrently,
// so an older status may arrive after a newer one: an online status applies
// only when its (epoch, seq) is not older than the last one applied; an
// offline status applies unless it is from an earlier epoch, because
// stopping is the safe side.
func (l *Link) applyOrchestrator(s *topics.OrchestratorState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.Epoch < l.orchEpoch {
		return
	}
	online := s.State == topics.OrchOnline
	if online && s.Epoch == l.orchEpoch && s.Seq < l.orchSeq {
		return
	}
	if s.Epoch > l.orchEpoch || s.Seq > l.orchSeq {
		l.orchEpoch, l.orchSeq = s.Epoch, s.Seq
	}
	l.orchOnline = online
}

// enqueue adds a message for the pump. When the queue is full, the oldest
// queued message of the same kind gives way: every kind a robot receives is
// latest-wins (retained directive, map, status; fleet commands are latched).
func (l *Link) enqueue(in Incoming) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	if len(l.queue) >= l.opts.InboxSize {
		i := slices.IndexFunc(l.queue, func(q Incoming) bool { return q.Kind == in.Kind })
		if i < 0 {
			i = 0
		}
		l.queue = slices.Delete(l.queue, i, i+1)
		l.n.coalesced.Add(1)
	}
	l.queue = append(l.queue, in)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// pump moves queued messages to the Inbox channel, so that a slow consumer
// never blocks paho.
func (l *Link) pump() {
	defer l.wg.Done()
	for {
		l.mu.Lock()
		if len(l.queue) == 0 {
			l.mu.Unlock()
			select {
			case <-l.wake:
				continue
			case <-l.done:
				return
			}
		}
		in := l.queue[0]
		l.queue = l.queue[1:]
		l.mu.Unlock()
		select {
		case l.inbox <- in:
		case <-l.done:
			return
		}
	}
}

// Close publishes the offline status (a clean disconnect suppresses the
// will), disconnects and closes Inbox. QoS 1 messages not yet acknowledged
// stay in the store for the next Dial with the same StoreDir.
func (l *Link) Close() error {
	var err error
	l.once.Do(func() {
		if l.client.IsConnectionOpen() {
			b, e := topics.Encode(l.offlineStatus(l.Stamp(topics.KindStatus), "closed"))
			if e == nil {
				p := topics.PolicyOf(topics.KindStatus)
				tok := l.client.Publish(topics.Robot(l.id, topics.KindStatus), p.QoS, p.Retained, b)
				if !tok.WaitTimeout(l.opts.OpTimeout) {
					e = fmt.Errorf("offline status not acknowledged within %v", l.opts.OpTimeout)
				} else {
					e = tok.Error()
				}
			}
			if e != nil {
				err = fmt.Errorf("link: close: %w", e)
			}
		}
		l.mu.Lock()
		l.closed = true
		l.gen++
		l.state.Connected = false
		l.orchOnline = false
		l.mu.Unlock()
		close(l.done)
		l.client.Disconnect(250)
		l.wg.Wait()
		close(l.inbox)
	})
	return err
}
