package broker

import (
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

const wait = 10 * time.Second

// pahoOpts are the options of a robot-like paho client: persistent session,
// file store, unordered handlers, fast reconnects.
func pahoOpts(t testing.TB, url, user, id string) *paho.ClientOptions {
	o := paho.NewClientOptions().AddBroker(url).SetClientID(id).
		SetCleanSession(false).SetOrderMatters(false).
		SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(100 * time.Millisecond).SetMaxReconnectInterval(300 * time.Millisecond).
		SetConnectTimeout(5 * time.Second).SetKeepAlive(30 * time.Second).
		SetStore(paho.NewFileStore(t.TempDir()))
	if user != "" {
		o.SetUsername(user).SetPassword(pw(user))
	}
	return o
}

func tcpURL(addr string) string { return "tcp://" + addr }

// connect connects and disconnects the client when the test ends.
func connect(t testing.TB, o *paho.ClientOptions) paho.Client {
	t.Helper()
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(wait) {
		t.Fatalf("connect %s: timed out", o.ClientID)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("connect %s: %v", o.ClientID, err)
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func waitToken(t testing.TB, what string, tok paho.Token) {
	t.Helper()
	if !tok.WaitTimeout(wait) {
		t.Fatalf("%s: timed out", what)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// inbox collects messages by topic.
type inbox struct {
	mu   sync.Mutex
	msgs map[string][]string
	n    int
}

func newInbox() *inbox { return &inbox{msgs: map[string][]string{}} }

func (in *inbox) add(topic string, payload []byte) {
	in.mu.Lock()
	in.msgs[topic] = append(in.msgs[topic], string(payload))
	in.n++
	in.mu.Unlock()
}

func (in *inbox) handler(_ paho.Client, m paho.Message) { in.add(m.Topic(), m.Payload()) }

func (in *inbox) has(topic, payload string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, p := range in.msgs[topic] {
		if p == payload {
			return true
		}
	}
	return false
}

func (in *inbox) last(topic string) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if m := in.msgs[topic]; len(m) > 0 {
		return m[len(m)-1]
	}
	return ""
}

func (in *inbox) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.n
}

// connDialer lets a test cut a paho client's connection without a
// DISCONNECT, as a crash or a Wi-Fi loss would.
type connDialer struct {
	mu   sync.Mutex
	conn net.Conn
}

func (d *connDialer) open(u *url.URL, _ paho.ClientOptions) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.conn = c
	d.mu.Unlock()
	return c, nil
}

func (d *connDialer) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		d.conn.Close()
	}
}
