package broker

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// connectDeadline bounds how long a new connection may take to send its
// CONNECT; mochi sets its keepalive deadline after that.
const connectDeadline = 10 * time.Second

// tracker remembers every accepted network connection so that Close can
// force-close those that would keep mochi's shutdown waiting.
type tracker struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (t *tracker) add(c net.Conn) {
	t.mu.Lock()
	t.conns[c] = struct{}{}
	t.mu.Unlock()
}

func (t *tracker) remove(c net.Conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

func (t *tracker) closeAll() int {
	t.mu.Lock()
	conns := make([]net.Conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		_ = c.Close() // removes itself from t
	}
	return len(conns)
}

// waitStarted waits, for at most max, until mochi has begun to serve every
// open connection. mochi's attachClient adds to a WaitGroup before its first
// Read, and its Close waits on that WaitGroup: an Add that is not known to
// happen before the Wait is a race (mochi PR #489).
func (t *tracker) waitStarted(max time.Duration) bool {
	deadline := time.Now().Add(max)
	for {
		t.mu.Lock()
		all := true
		for c := range t.conns {
			if tc, ok := c.(*trackedConn); ok && !tc.started.Load() {
				all = false
				break
			}
		}
		t.mu.Unlock()
		if all {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// trackedListener records accepted connections and gives each a deadline for
// its CONNECT.
type trackedListener struct {
	net.Listener
	t *tracker
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(connectDeadline))
	tc := &trackedConn{Conn: c, t: l.t}
	l.t.add(tc)
	return tc, nil
}

type trackedConn struct {
	net.Conn
	t       *tracker
	once    sync.Once
	started atomic.Bool // mochi has read from it: its attachClient has begun
}

func (c *trackedConn) Read(p []byte) (int, error) {
	if !c.started.Load() {
		c.started.Store(true)
	}
	return c.Conn.Read(p)
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.t.remove(c) })
	return c.Conn.Close()
}

// wsListener serves MQTT over WebSocket (subprotocol "mqtt") on its own
// net.Listener, so that the bound address is known and its connections are
// tracked.
type wsListener struct {
	id        string
	ln        net.Listener
	srv       *http.Server
	establish listeners.EstablishFn
	upgrader  websocket.Upgrader
	closeOnce sync.Once
	maxPacket int
	sz        *sizer
}

func newWSListener(id string, ln net.Listener, maxPacket int, sz *sizer) *wsListener {
	l := &wsListener{id: id, ln: ln, maxPacket: maxPacket, sz: sz}
	l.upgrader = websocket.Upgrader{
		Subprotocols: []string{"mqtt"},
		// Browsers of the dashboard connect from the HTTP port's origin;
		// the broker authenticates every client anyway.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	l.srv = &http.Server{Handler: http.HandlerFunc(l.handle), ReadHeaderTimeout: connectDeadline}
	return l
}

func (l *wsListener) ID() string              { return l.id }
func (l *wsListener) Address() string         { return l.ln.Addr().String() }
func (l *wsListener) Protocol() string        { return "ws" }
func (l *wsListener) Init(*slog.Logger) error { return nil }
func (l *wsListener) Serve(e listeners.EstablishFn) {
	l.establish = e
	_ = l.srv.Serve(l.ln)
}

func (l *wsListener) Close(closeClients listeners.CloseFn) {
	l.closeOnce.Do(func() { _ = l.srv.Close() })
	closeClients(l.id)
}

func (l *wsListener) handle(w http.ResponseWriter, r *http.Request) {
	c, err := l.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered with an HTTP error
	}
	defer c.Close()
	wc := &wsConn{Conn: c.UnderlyingConn(), ws: c}
	f := newFramer(wc, l.maxPacket)
	_ = l.sz.establish(l.establish, l.id, &framedConn{Conn: wc, f: f}, f)
}

// wsConn is a net.Conn over binary WebSocket messages.
type wsConn struct {
	net.Conn // the underlying connection, for addresses and deadlines
	ws       *websocket.Conn
	r        io.Reader
	wmu      sync.Mutex
}

var errNotBinary = errors.New("websocket: MQTT needs binary messages")

func (c *wsConn) Read(p []byte) (int, error) {
	for {
		if c.r == nil {
			op, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if op != websocket.BinaryMessage {
				return 0, errNotBinary
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if errors.Is(err, io.EOF) {
			c.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) Close() error { return c.Conn.Close() }
