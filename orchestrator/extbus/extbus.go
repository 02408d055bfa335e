package extbus

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/rs/zerolog"
)

// Options configure the connection.
type Options struct {
	URL      string // tcp://host:1883 or tls://host:8883
	Username string
	Password string
	CAFile   string // for tls://; empty: system roots
	ClientID string // default "orchestrator"
	// Will is published retained at QoS 1 by the broker if the connection
	// dies.
	WillTopic   string
	WillPayload []byte
	Timeout     time.Duration // every WaitTimeout, default 5 s
	Log         zerolog.Logger
}

// Handler takes one message; an error leaves it unacknowledged.
type Handler func(topic string, payload []byte) error

// Bus is a connection to an external broker.
type Bus struct {
	c       mqtt.Client
	timeout time.Duration
	log     zerolog.Logger
	mu      sync.Mutex
	subs    map[string]Handler
}

// Dial connects, waiting at most Timeout for the first connection.
func Dial(o Options) (*Bus, error) {
	if o.ClientID == "" {
		o.ClientID = "orchestrator"
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	b := &Bus{timeout: o.Timeout, log: o.Log, subs: map[string]Handler{}}
	opts := mqtt.NewClientOptions().AddBroker(o.URL).SetClientID(o.ClientID).
		SetUsername(o.Username).SetPassword(o.Password).
		SetCleanSession(false).SetOrderMatters(false).SetAutoReconnect(true).
		SetConnectRetry(true).SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(2 * time.Second).
		SetKeepAlive(10 * time.Second).SetConnectTimeout(o.Timeout).SetAutoAckDisabled(true).
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

// onConnect subscribes again after every (re)connect.
func (b *Bus) onConnect(c mqtt.Client) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for f, h := range b.subs {
		b.subscribe(c, f, h)
	}
}

func (b *Bus) subscribe(c mqtt.Client, filter string, h Handler) error {
	tok := c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) {
		if err := h(m.Topic(), m.Payload()); err != nil {
			b.log.Error().Err(err).Str("topic", m.Topic()).Msg("message not taken: left unacknowledged")
			return
		}
		m.Ack()
	})
	if !tok.WaitTimeout(b.timeout) {
		return fmt.Errorf("subscribe %s: no answer within %v", filter, b.timeout)
	}
	return tok.Error()
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
// must not stall the core (paho keeps a QoS 1 message and sends it again
// after a reconnect). An error known at once is returned; one known later
// (or no answer within Timeout) is logged.
func (b *Bus) Publish(topic string, payload []byte, retain bool, qos byte) error {
	tok := b.c.Publish(topic, qos, retain, payload)
	select {
	case <-tok.Done():
		return tok.Error()
	default:
	}
	go func() {
		if !tok.WaitTimeout(b.timeout) {
			b.log.Warn().Str("topic", topic).Dur("after", b.timeout).Msg("publish not acknowledged yet: paho sends it again after a reconnect")
			return
		}
		if err := tok.Error(); err != nil {
			b.log.Error().Err(err).Str("topic", topic).Msg("publish failed")
		}
	}()
	return nil
}

// Close disconnects cleanly (the will is not sent: publish offline first).
func (b *Bus) Close() error {
	if b.c == nil {
		return errors.New("extbus: not connected")
	}
	b.c.Disconnect(250)
	return nil
}
