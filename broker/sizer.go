package broker

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// Queue sizes by role. mochi gives every client an outbound queue (a
// channel of MaximumClientWritesPending packets, 8 bytes a slot) and a read
// buffer, sized when it creates the client, before it has read CONNECT,
// from server-wide settings. A robot receives a few messages a second
// (directives, heartbeats, the map): a small queue holds seconds of them.
// A watcher may take the whole fleet's traffic (fan-in): its queue holds a
// burst of every robot's poses, or QoS 0 messages are dropped. At 64 Ki a
// subscriber on the same two cores as 50 robots bursting 2,000 poses each
// (the load benchmark's fan-in) lost a tenth of them in one run of two; at
// 128 Ki the whole burst fits.
const (
	RobotWritesPending   = 1024       // 8 KiB a robot
	WatcherWritesPending = 128 * 1024 // 1 MiB a watcher, the orchestrator or an operator
	robotReadBuffer      = 4 * 1024
	watcherReadBuffer    = 16 * 1024
)

// sizer sizes each client's queue and read buffer for its role. It reads
// the client's CONNECT first (the framer keeps it for mochi), sets mochi's
// server-wide sizes for that role, and lets mochi create the client; the
// next connection waits until mochi has read from this one, i.e. until it
// has created the client with those sizes.
type sizer struct {
	mu    sync.Mutex
	srv   *mqtt.Server
	creds func() *Credentials
	// watcher overrides WatcherWritesPending (Options.MaxClientWritesPending).
	watcher int32
	sized   [2]atomic.Uint64 // clients sized as robots, as watchers
}

func (s *sizer) establish(est listeners.EstablishFn, id string, c net.Conn, f *framer) error {
	robot := false
	if user, err := f.peekConnect(); err == nil {
		if u, ok := s.creds().Lookup(user); ok && u.Role == RoleRobot {
			robot = true
		}
	}
	s.mu.Lock()
	if robot {
		s.srv.Options.Capabilities.MaximumClientWritesPending = RobotWritesPending
		s.srv.Options.ClientNetReadBufferSize = robotReadBuffer
		s.sized[0].Add(1)
	} else {
		s.srv.Options.Capabilities.MaximumClientWritesPending = s.watcher
		s.srv.Options.ClientNetReadBufferSize = watcherReadBuffer
		s.sized[1].Add(1)
	}
	created := make(chan struct{})
	f.onRead = func() { close(created) }
	done := make(chan error, 1)
	go func() { done <- est(id, c) }()
	select {
	case <-created:
		s.mu.Unlock()
		return <-done
	case err := <-done: // mochi gave up before reading (closing down)
		s.mu.Unlock()
		return err
	}
}

// sizedListener serves a net.Listener's connections to mochi through a
// framer and the sizer, as mochi's listeners.Net does.
type sizedListener struct {
	id    string
	ln    net.Listener
	max   int
	sz    *sizer
	log   *slog.Logger
	ended atomic.Bool
	once  sync.Once
}

func (l *sizedListener) ID() string                  { return l.id }
func (l *sizedListener) Address() string             { return l.ln.Addr().String() }
func (l *sizedListener) Protocol() string            { return l.ln.Addr().Network() }
func (l *sizedListener) Init(log *slog.Logger) error { l.log = log; return nil }

func (l *sizedListener) Serve(est listeners.EstablishFn) {
	for !l.ended.Load() {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			f := newFramer(c, l.max)
			if err := l.sz.establish(est, l.id, &framedConn{Conn: c, f: f}, f); err != nil && l.log != nil {
				l.log.Debug("connection ended", "error", err)
			}
		}()
	}
}

func (l *sizedListener) Close(closeClients listeners.CloseFn) {
	l.once.Do(func() {
		l.ended.Store(true)
		closeClients(l.id)
		_ = l.ln.Close()
	})
}

// peekConnect reads the connection's first packet, which must be CONNECT,
// into the framer's output (mochi reads it from there) and returns its
// username. The packet is passed on whatever happens.
func (f *framer) peekConnect() (string, error) {
	b0, err := f.src.ReadByte()
	if err != nil {
		return "", err
	}
	n, lb, err := readVarint(f.src)
	if err != nil {
		return "", err
	}
	f.out = append(append(f.out[:0], b0), lb...)
	if b0>>4 != 1 || 1+len(lb)+n > f.max {
		f.pass = n // not a CONNECT we read: mochi judges it
		return "", errors.New("not a CONNECT within the packet limit")
	}
	body := make([]byte, n)
	if _, err := readFull(f, body); err != nil {
		return "", err
	}
	f.out = append(f.out, body...)
	f.v5 = isV5(body)
	return connectUser(body)
}

func readFull(f *framer, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := f.src.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// connectUser is the username of a CONNECT's body (MQTT 3.1, 3.1.1 or 5).
func connectUser(b []byte) (string, error) {
	bad := errors.New("malformed CONNECT")
	str := func() ([]byte, bool) {
		if len(b) < 2 {
			return nil, false
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, false
		}
		s := b[2 : 2+n]
		b = b[2+n:]
		return s, true
	}
	props := func() bool {
		n, lb, err := readVarint(byteReader{&b})
		if err != nil || len(b) < n {
			return false
		}
		_ = lb
		b = b[n:]
		return true
	}
	if _, ok := str(); !ok { // protocol name
		return "", bad
	}
	if len(b) < 4 {
		return "", bad
	}
	level, flags := b[0], b[1]
	b = b[4:] // level, flags, keepalive
	if level == 5 && !props() {
		return "", bad
	}
	if _, ok := str(); !ok { // client id
		return "", bad
	}
	if flags&0x04 != 0 { // will
		if level == 5 && !props() {
			return "", bad
		}
		if _, ok := str(); !ok {
			return "", bad
		}
		if _, ok := str(); !ok {
			return "", bad
		}
	}
	if flags&0x80 == 0 {
		return "", nil
	}
	u, ok := str()
	if !ok {
		return "", bad
	}
	return string(u), nil
}

// byteReader reads from a slice it shortens.
type byteReader struct{ b *[]byte }

func (r byteReader) ReadByte() (byte, error) {
	if len(*r.b) == 0 {
		return 0, errors.New("short")
	}
	c := (*r.b)[0]
	*r.b = (*r.b)[1:]
	return c, nil
}
