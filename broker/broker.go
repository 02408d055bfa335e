package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mochi-mqtt/server/v2/system"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.etcd.io/bbolt"

	"collaborate/topics"
)

// Defaults of Options.
const (
	DefaultMaxPacketSize = 64 * 1024 // bytes; payloads are limited to topics.MaxPayload (16 KiB)
	// DefaultMaxClientWritesPending is the depth of the outbound queue of
	// a client that is not a robot (a watcher, the orchestrator, an
	// operator): QoS 0 messages beyond it are dropped, and with mochi's
	// 8192, 50 publishers bursting to one TCP subscriber lost most of them.
	// A robot's queue is RobotWritesPending.
	DefaultMaxClientWritesPending = WatcherWritesPending
	// DefaultSessionExpiry is how long a disconnected persistent session
	// (and its queued QoS 1 messages) is kept.
	DefaultSessionExpiry = 7 * 24 * time.Hour
	// StateFile is the bolt file in Options.StateDir.
	StateFile = "broker.bolt"
)

// How long Close waits for mochi before force-closing connections, then
// before giving up.
var (
	closeGrace = 1 * time.Second
	closeHard  = 1500 * time.Millisecond
)

// Options configures a Broker. An empty address disables its listener.
type Options struct {
	TCPAddr string // e.g. ":1883" or "127.0.0.1:0"
	TLSAddr string // needs TLSCert and TLSKey
	TLSCert string // PEM certificate (chain) file
	TLSKey  string // PEM private key file
	// TLSConfig, when set, serves the TLS listener instead of TLSCert and
	// TLSKey: the orchestrator passes one that reloads a renewed
	// certificate without a restart.
	TLSConfig *tls.Config
	WSAddr    string // MQTT over WebSocket, path "/"

	// StateDir holds the bolt store of retained messages and sessions;
	// empty keeps them in memory only.
	StateDir string

	Credentials         *Credentials // required; replace later with SetCredentials
	AllowAnonymousWatch bool         // clients without username may read everything

	MaxPacketSize          uint32 // bytes; 0 means DefaultMaxPacketSize
	MaxClientWritesPending int32  // a watcher's queue; 0 means DefaultMaxClientWritesPending

	Logger     zerolog.Logger        // zero value: discard
	Registerer prometheus.Registerer // nil: metrics are not registered

	// OnClientOnline and OnClientOffline are called for robot clients
	// (role robot), from mochi's goroutines: they must not block. A session
	// taken over by a reconnecting robot is not reported offline.
	OnClientOnline  func(id string)
	OnClientOffline func(id string)

	// Accept, when set, sees every robot publish that passed the ACL and the
	// contract (and a robot's last will), decoded once, before the broker
	// acknowledges it, in the publisher's goroutine. The orchestrator
	// persists checkpoints there, so that a checkpoint acknowledged to a
	// robot is never forgotten. An error refuses the message unacknowledged
	// (the connection is closed) so that the robot's outbox sends it again
	// after reconnecting.
	Accept func(Inbound) error
}

// Inbound is one robot message the broker took, decoded and validated once
// (topics.DecodeTopic): nobody downstream decodes it again.
type Inbound struct {
	Topic   topics.Topic
	Msg     topics.Message
	Payload []byte // as received; owned by the receiver
	Will    bool   // published by the broker for a robot that vanished
}

// Addrs are the addresses the listeners are bound to; empty when disabled.
type Addrs struct {
	TCP, TLS, WS string
}

// Broker is a running embedded broker.
type Broker struct {
	srv   *mqtt.Server
	guard *guard
	count *counters
	log   zerolog.Logger
	addrs Addrs
	lns   []net.Listener
	conns *tracker
	sizer *sizer

	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
}

// New binds the listeners, opens the store and starts serving.
func New(o Options) (*Broker, error) {
	if o.Credentials == nil {
		return nil, errors.New("broker: no credentials")
	}
	if o.TCPAddr == "" && o.TLSAddr == "" && o.WSAddr == "" {
		return nil, errors.New("broker: no listener address")
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = o.MaxPacketSize
	if caps.MaximumPacketSize == 0 {
		caps.MaximumPacketSize = DefaultMaxPacketSize
	}
	caps.MaximumClientWritesPending = o.MaxClientWritesPending
	if caps.MaximumClientWritesPending == 0 {
		caps.MaximumClientWritesPending = DefaultMaxClientWritesPending
	}
	// mochi's default deletes retained messages after a day: the fleet map
	// and the robots' status must stay.
	caps.MaximumMessageExpiryInterval = 0
	caps.MaximumSessionExpiryInterval = uint32(DefaultSessionExpiry / time.Second)

	srv := mqtt.New(&mqtt.Options{
		Capabilities:             caps,
		InlineClient:             true,
		Logger:                   slog.New(&slogZero{log: o.Logger.With().Str("src", "mochi").Logger()}),
		ClientNetWriteBufferSize: 16 * 1024,
		ClientNetReadBufferSize:  16 * 1024,
	})
	b := &Broker{srv: srv, log: o.Logger, conns: &tracker{conns: map[net.Conn]struct{}{}}}
	count, err := newCounters(o.Registerer, func() (int64, int64, int64) {
		return atomic.LoadInt64(&srv.Info.MessagesDropped), atomic.LoadInt64(&srv.Info.InflightDropped),
			atomic.LoadInt64(&srv.Info.ClientsConnected)
	})
	if err != nil {
		return nil, fmt.Errorf("broker metrics: %w", err)
	}
	b.count = count
	g := &guard{
		anonWatch: o.AllowAnonymousWatch,
		log:       o.Logger,
		count:     count,
		clients:   srv.Clients,
		online:    o.OnClientOnline,
		offline:   o.OnClientOffline,
		accept:    o.Accept,
		current:   map[string]*mqtt.Client{},
	}
	if err := o.Credentials.index(); err != nil {
		return nil, fmt.Errorf("broker credentials: %w", err)
	}
	g.creds.Store(o.Credentials)
	count.setRobots(o.Credentials.robotIDs())
	b.guard = g
	b.sizer = &sizer{srv: srv, creds: g.creds.Load, watcher: caps.MaximumClientWritesPending}
	if err := srv.AddHook(g, nil); err != nil {
		return nil, fmt.Errorf("broker: add guard hook: %w", err)
	}
	if o.StateDir != "" {
		if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("broker state dir: %w", err)
		}
		// Written without fsync: a crash of the process loses nothing (the
		// kernel has every write), a power cut may lose the last ones, and
		// the orchestrator makes those good at its next start (it
		// announces its status, map and fleet command again, and resends
		// each robot what it has not applied). Syncing every retained
		// directive and every QoS 1 message in flight cost several fsyncs
		// per directive per robot.
		err := srv.AddHook(boltStore{new(bolt.Hook)}, &bolt.Options{
			Path:    filepath.Join(o.StateDir, StateFile),
			Options: &bbolt.Options{Timeout: 2 * time.Second, NoSync: true, NoFreelistSync: true},
		})
		if err != nil {
			return nil, fmt.Errorf("broker: open store %s: %w", filepath.Join(o.StateDir, StateFile), err)
		}
	}
	if err := b.listen(o, int(caps.MaximumPacketSize)); err != nil {
		b.abort()
		return nil, err
	}
	if err := srv.Serve(); err != nil {
		b.abort()
		return nil, fmt.Errorf("broker: serve: %w", err)
	}
	return b, nil
}

// listen binds every configured listener. Every connection reads through a
// framer that shrinks a PUBLISH over maxPacket (see framer).
func (b *Broker) listen(o Options, maxPacket int) error {
	bind := func(addr string) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("broker: listen %s: %w", addr, err)
		}
		b.lns = append(b.lns, ln)
		return &trackedListener{Listener: ln, t: b.conns}, nil
	}
	if o.TCPAddr != "" {
		ln, err := bind(o.TCPAddr)
		if err != nil {
			return err
		}
		b.addrs.TCP = ln.Addr().String()
		if err := b.srv.AddListener(&sizedListener{id: "tcp", ln: ln, max: maxPacket, sz: b.sizer}); err != nil {
			return fmt.Errorf("broker: tcp listener: %w", err)
		}
	}
	if o.TLSAddr != "" {
		tc := o.TLSConfig
		if tc == nil {
			if o.TLSCert == "" || o.TLSKey == "" {
				return errors.New("broker: a TLS address needs a certificate and a key file")
			}
			cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
			if err != nil {
				return fmt.Errorf("broker: load TLS key pair %s, %s: %w", o.TLSCert, o.TLSKey, err)
			}
			tc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
		ln, err := bind(o.TLSAddr)
		if err != nil {
			return err
		}
		b.addrs.TLS = ln.Addr().String()
		tl := tls.NewListener(ln, tc)
		if err := b.srv.AddListener(&sizedListener{id: "tls", ln: tl, max: maxPacket, sz: b.sizer}); err != nil {
			return fmt.Errorf("broker: tls listener: %w", err)
		}
	}
	if o.WSAddr != "" {
		ln, err := bind(o.WSAddr)
		if err != nil {
			return err
		}
		b.addrs.WS = ln.Addr().String()
		if err := b.srv.AddListener(newWSListener("ws", ln, maxPacket, b.sizer)); err != nil {
			return fmt.Errorf("broker: ws listener: %w", err)
		}
	}
	return nil
}

// abort releases what New had acquired before it failed.
func (b *Broker) abort() {
	for _, ln := range b.lns {
		_ = ln.Close()
	}
	_ = b.closeServer()
}

// Addrs returns the bound listener addresses.
func (b *Broker) Addrs() Addrs { return b.addrs }

// SetCredentials replaces the credentials for new connections and for every
// later ACL decision.
func (b *Broker) SetCredentials(c *Credentials) error {
	if err := c.index(); err != nil {
		return err
	}
	b.guard.creds.Store(c)
	b.count.setRobots(c.robotIDs())
	return nil
}

// Publish publishes from the orchestrator itself (mochi's inline client,
// which no ACL or payload check applies to).
func (b *Broker) Publish(topic string, payload []byte, retain bool, qos byte) error {
	if b.closed.Load() {
		return errors.New("broker closed")
	}
	if err := b.srv.Publish(topic, payload, retain, qos); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// Subscribe delivers every message matching filter, retained ones first, to
// handler. id names the subscription for Unsubscribe. handler runs on the
// publisher's goroutine: it must not block, and must not keep or modify
// payload beyond the call.
func (b *Broker) Subscribe(filter string, id int, handler func(topic string, payload []byte)) error {
	err := b.srv.Subscribe(filter, id, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		handler(pk.TopicName, pk.Payload)
	})
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", filter, err)
	}
	return nil
}

// Unsubscribe removes the in-process subscription (filter, id).
func (b *Broker) Unsubscribe(filter string, id int) error {
	if err := b.srv.Unsubscribe(filter, id); err != nil {
		return fmt.Errorf("unsubscribe %s: %w", filter, err)
	}
	return nil
}

// Drops returns the number of dropped publishes (and refused subscriptions
// and oversized packets) by reason.
func (b *Broker) Drops() map[string]uint64 { return snapshot(&b.count.mu, b.count.drops) }

// Refused returns the number of refused connections by reason.
func (b *Broker) Refused() map[string]uint64 { return snapshot(&b.count.mu, b.count.refused) }

// Sized returns how many clients got a robot's outbound queue and read
// buffer, and how many a watcher's (see RobotWritesPending).
func (b *Broker) Sized() (robots, watchers uint64) {
	return b.sizer.sized[0].Load(), b.sizer.sized[1].Load()
}

// Info returns a copy of mochi's counters. MessagesDropped counts messages
// lost because a client's outbound queue was full; InflightDropped, QoS>0
// messages lost because its inflight store was full.
func (b *Broker) Info() system.Info { return *b.srv.Info.Clone() }

// Close disconnects every client and closes the store. It returns within
// about 3.5 seconds even when connections are stuck mid-CONNECT (mochi's
// Close can wait for them forever).
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.closed.Store(true)
		for _, ln := range b.lns {
			_ = ln.Close() // stop accepting first: mochi closes clients before listeners
		}
		b.drain(500 * time.Millisecond)
		b.closeErr = b.closeServer()
	})
	return b.closeErr
}

// drain gives the clients' write queues a moment, at most max, to deliver
// what was published just before Close (such as orchestrator/status
// offline): mochi's Close drops its clients' queues. It waits until no packet
// has been sent for 40 ms; mochi exposes no queue length to wait on.
func (b *Broker) drain(max time.Duration) {
	deadline := time.Now().Add(max)
	last, quiet := atomic.LoadInt64(&b.srv.Info.PacketsSent), 0
	for quiet < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n := atomic.LoadInt64(&b.srv.Info.PacketsSent)
		if n == last {
			quiet++
		} else {
			last, quiet = n, 0
		}
	}
}

func (b *Broker) closeServer() error {
	if !b.conns.waitStarted(closeGrace / 2) {
		b.log.Warn().Msg("broker close: some new connections were not yet served")
	}
	done := make(chan struct{})
	go func() {
		_ = b.srv.Close()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(closeGrace):
	}
	n := b.conns.closeAll()
	b.log.Warn().Int("connections", n).Msg("broker close is slow: force-closed the remaining connections")
	select {
	case <-done:
		return nil
	case <-time.After(closeHard):
		return errors.New("broker close timed out; abandoned mochi's shutdown")
	}
}

// slogZero sends mochi's slog records to zerolog. mochi's Info is chatty,
// so it becomes Debug.
type slogZero struct {
	log    zerolog.Logger
	prefix string
}

func (h *slogZero) Enabled(_ context.Context, l slog.Level) bool {
	return h.log.GetLevel() <= zlevel(l)
}

func zlevel(l slog.Level) zerolog.Level {
	switch {
	case l >= slog.LevelError:
		return zerolog.ErrorLevel
	case l >= slog.LevelWarn:
		return zerolog.WarnLevel
	default:
		return zerolog.DebugLevel
	}
}

func (h *slogZero) Handle(_ context.Context, r slog.Record) error {
	lvl := zlevel(r.Level)
	if strings.HasPrefix(r.Message, "client keepalive is below minimum recommended value") {
		// The contract asks robots for a 3 s keepalive, below mochi's
		// recommended 5 s on purpose: a dead link must be seen fast. Not
		// a warning, at every robot's every connection.
		lvl = zerolog.DebugLevel
	}
	if r.Message == "failed to get data" {
		// The bolt hook looks up its $SYS record at every start and reports
		// a first start (nothing stored yet) as an error.
		r.Attrs(func(a slog.Attr) bool {
			if err, ok := a.Value.Any().(error); ok && strings.Contains(err.Error(), "key not found") {
				lvl = zerolog.DebugLevel
			}
			return true
		})
	}
	if h.log.GetLevel() > lvl {
		return nil
	}
	e := h.log.WithLevel(lvl)
	r.Attrs(func(a slog.Attr) bool {
		e = addAttr(e, h.prefix+a.Key, a.Value.Any())
		return true
	})
	e.Msg(r.Message)
	return nil
}

func (h *slogZero) WithAttrs(as []slog.Attr) slog.Handler {
	c := h.log.With()
	for _, a := range as {
		if err, ok := a.Value.Any().(error); ok {
			c = c.AnErr(h.prefix+a.Key, err)
		} else {
			c = c.Interface(h.prefix+a.Key, a.Value.Any())
		}
	}
	return &slogZero{log: c.Logger(), prefix: h.prefix}
}

func (h *slogZero) WithGroup(name string) slog.Handler {
	return &slogZero{log: h.log, prefix: h.prefix + name + "."}
}

func addAttr(e *zerolog.Event, key string, v any) *zerolog.Event {
	switch v := v.(type) {
	case error:
		return e.AnErr(key, v)
	case packets.Packet:
		// mochi logs whole packets: keep what helps, not the payload.
		return e.Str(key+".topic", v.TopicName).Uint8(key+".type", v.FixedHeader.Type)
	}
	return e.Interface(key, v)
}
