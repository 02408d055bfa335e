package extbus

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/rs/zerolog"
)

// Options configure the connection.
type Options struct {
	// URL is tcp://host:1883 or tls://host:8883, or a comma-separated list
	// of them (the nodes of a broker cluster): a lost connection is made
	// again to the first that answers, in the list's order.
	URL      string
	Username string
	Password string
	CAFile   string // for tls://; empty: system roots
	ClientID string // default "orchestrator"
	// Will is published retained at QoS 1 by the broker if the connection
	// dies.
	WillTopic   string
	WillPayload []byte
	Timeout     time.Duration // every WaitTimeout, default 5 s
	// KeepAlive, default 3 s, with a ping timeout of 2 s: a dead broker is
	// noticed within about 5 s and reconnected to.
	KeepAlive time.Duration
	// OnReconnect runs after every reconnection, once the subscriptions are
	// back (not after the first connection): the orchestrator announces
	// itself again there. It runs in paho's goroutine: it must not block
	// for long.
	OnReconnect func()
	Log         zerolog.Logger
}

// Handler takes one message; an error leaves it unacknowledged. retained
// is set when the broker sends a retained message on subscribing (at
// start and after every reconnect), not as it was published.
type Handler func(topic string, payload []byte, retained bool) error

// Stats count what the connection saw.
type Stats struct {
	Reconnects       uint64 // successful reconnections, subscriptions included
	SubscribeRetries uint64 // SUBSCRIBEs refused or unanswered, tried again
	PublishErrors    uint64 // publishes paho refused at once
}

// Bus is a connection to an external broker.
type Bus struct {
	c       mqtt.Client
	o       Options
	log     zerolog.Logger
	mu      sync.Mutex
	subs    map[string]Handler
	conns   atomic.Uint64 // connections made, the first included
	closed  chan struct{}
	once    sync.Once
	retries atomic.Uint64
	pubErrs atomic.Uint64
}

// Dial connects, waiting at most Timeout for the first connection.
func Dial(o Options) (*Bus, error) {
	if o.ClientID == "" {
		o.ClientID = "orchestrator"
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = 3 * time.Second
	}
	b := &Bus{o: o, log: o.Log, subs: map[string]Handler{}, closed: make(chan struct{})}
	opts := mqtt.NewClientOptions()
	n := 0
	for _, u := range strings.Split(o.URL, ",") {
		if u = strings.TrimSpace(u); u != "" {
			opts.AddBroker(u)
			n++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("extbus: no broker URL in %q", o.URL)
	}
	// MQTT 3.1.1 only: paho's default falls back to 3.1 after a refused
	// CONNECT, which brokers such as NATS answer by closing the connection,
	// and the next attempt then waits a whole retry interval.
	opts.SetProtocolVersion(4).SetClientID(o.ClientID).
		SetUsername(o.Username).SetPassword(o.Password).
		SetCleanSession(false).SetOrderMatters(false).SetAutoReconnect(true).
		SetConnectRetry(true).SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(2 * time.Second).
		SetKeepAlive(o.KeepAlive).SetPingTimeout(2 * time.Second).SetConnectTimeout(o.Timeout).
		SetAutoAckDisabled(true).
		SetOnConnectHandler(b.onConnect).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			b.log.Error().Err(err).Str("broker", o.URL).Msg("lost the external broker; reconnecting")
		})
	if o.WillTopic != "" {
		opts.SetBinaryWill(o.WillTopic, o.WillPayload, 1, true)
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA %s: %w", o.CAFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA %s holds no PEM certificate", o.CAFile)
		}
		opts.SetTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	}
	b.c = mqtt.NewClient(opts)
	tok := b.c.Connect()
	if !tok.WaitTimeout(o.Timeout) {
		b.c.Disconnect(0)
		return nil, fmt.Errorf("connect %s: no answer within %v", o.URL, o.Timeout)
	}
	if err := tok.Error(); err != nil {
		return nil, fmt.Errorf("connect %s: %w", o.URL, err)
	}
	return b, nil
}

// onConnect subscribes again after every (re)connect, retrying refused
// subscriptions, then runs OnReconnect. paho runs it in a goroutine of its
// own.
func (b *Bus) onConnect(c mqtt.Client) {
	first := b.conns.Add(1) == 1
	b.mu.Lock()
	subs := make(map[string]Handler, len(b.subs))
	for f, h := range b.subs {
		subs[f] = h
	}
	b.mu.Unlock()
	for f, h := range subs {
		for {
			err := b.subscribe(c, f, h)
			if err == nil {
				break
			}
			b.retries.Add(1)
			b.log.Error().Err(err).Msg("resubscribe failed, retrying")
			select {
			case <-b.closed:
				return
			case <-time.After(time.Second):
			}
			if !c.IsConnectionOpen() {
				return // lost again: the next onConnect starts over
			}
		}
	}
	if !first {
		b.log.Info().Str("broker", b.o.URL).Msg("reconnected to the external broker")
		if b.o.OnReconnect != nil {
			b.o.OnReconnect()
		}
	}
}

func (b *Bus) subscribe(c mqtt.Client, filter string, h Handler) error {
	tok := c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) {
		if err := h(m.Topic(), m.Payload(), m.Retained()); err != nil {
			b.log.Error().Err(err).Str("topic", m.Topic()).Msg("message not taken: left unacknowledged")
			return
		}
		m.Ack()
	})
	if !tok.WaitTimeout(b.o.Timeout) {
		return fmt.Errorf("subscribe %s: no answer within %v", filter, b.o.Timeout)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("subscribe %s: %w", filter, err)
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		for f, code := range st.Result() {
			if code >= 0x80 { // a refusal, whatever the code
				return fmt.Errorf("subscribe %s: refused by the broker (code 0x%02x)", f, code)
			}
		}
	}
	return nil
}

// Subscribe adds a subscription, kept across reconnects.
func (b *Bus) Subscribe(filter string, h Handler) error {
	b.mu.Lock()
	b.subs[filter] = h
	b.mu.Unlock()
	return b.subscribe(b.c, filter, h)
}

// Publish hands one message to paho without waiting for the broker: the
// orchestrator publishes under its core's lock, and a slow or lost broker
// must not stall the core. paho keeps a QoS 1 message and sends it again
// after a reconnect; a directive that is lost anyway (a broker that crashed
// before saving it) is sent again by the core's resync. An error known at
// once is returned.
func (b *Bus) Publish(topic string, payload []byte, retain bool, qos byte) error {
	tok := b.c.Publish(topic, qos, retain, payload)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			b.pubErrs.Add(1)
			return err
		}
	default:
	}
	return nil
}

// Stats returns the counters.
func (b *Bus) Stats() Stats {
	return Stats{Reconnects: max(b.conns.Load(), 1) - 1, SubscribeRetries: b.retries.Load(), PublishErrors: b.pubErrs.Load()}
}

// Close disconnects cleanly (the will is not sent: publish offline first).
func (b *Bus) Close() error {
	if b.c == nil {
		return errors.New("extbus: not connected")
	}
	b.once.Do(func() { close(b.closed) })
	b.c.Disconnect(250)
	return nil
}
