package conform

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// MQTT 3.1.1 control packet types, the ones the proxy reads.
const (
	pktConnect     = 1
	pktPublish     = 3
	pktSubscribe   = 8
	pktSuback      = 9
	pktDisconnect  = 14
	subackRefusal  = 0x80 // MQTT 3.1.1's one failure code in a SUBACK
	maxProxyPacket = 1 << 20
)

// proxy sits between the robot and the broker. It forwards every byte
// unchanged, except the SUBACKs it was told to refuse, and records what the
// robot sends: the kit sees a packet before the broker judges it (a publish
// the broker drops is still seen).
type proxy struct {
	ln     net.Listener
	target string
	rec    *record

	mu     sync.Mutex
	conns  map[int][2]net.Conn
	n      int
	refuse int // SUBACKs still to refuse
	wg     sync.WaitGroup
}

func newProxy(addr, target string, rec *record) (*proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	p := &proxy{ln: ln, target: target, rec: rec, conns: map[int][2]net.Conn{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.n++
		n := p.n
		p.conns[n] = [2]net.Conn{c, b}
		p.mu.Unlock()
		p.rec.opened(n)
		p.wg.Add(2)
		go p.pipe(n, c, b, true)
		go p.pipe(n, b, c, false)
	}
}

// refuseSubacks makes the next n SUBACKs to the robot refusals (0x80 for
// every filter). The broker granted them: the robot must subscribe again.
func (p *proxy) refuseSubacks(n int) {
	p.mu.Lock()
	p.refuse = n
	p.mu.Unlock()
}

// cut closes every open connection, both ways, as a lost Wi-Fi link with a
// reset would: the broker publishes the robot's will, the robot reconnects.
func (p *proxy) cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n, cs := range p.conns {
		_ = cs[0].Close()
		_ = cs[1].Close()
		delete(p.conns, n)
	}
	return len(p.conns)
}

func (p *proxy) close() {
	_ = p.ln.Close()
	p.cut()
	p.wg.Wait()
}

// pipe copies packets from src to dst; up is robot → broker.
func (p *proxy) pipe(n int, src, dst net.Conn, up bool) {
	defer p.wg.Done()
	defer func() {
		_ = src.Close()
		_ = dst.Close()
		p.mu.Lock()
		delete(p.conns, n)
		p.mu.Unlock()
		if up {
			p.rec.closed(n)
		}
	}()
	r := bufio.NewReader(src)
	for {
		raw, typ, body, err := readPacket(r)
		if err != nil {
			if up && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				p.rec.note(n, fmt.Sprintf("unreadable packet from the robot: %v", err))
			}
			return
		}
		now := time.Now()
		if up {
			p.rec.fromRobot(n, now, typ, raw[0]&0x0f, body)
		} else if typ == pktSuback {
			p.mu.Lock()
			refuse := p.refuse > 0 && len(body) > 2
			if refuse {
				p.refuse--
			}
			p.mu.Unlock()
			if refuse {
				for i := len(raw) - (len(body) - 2); i < len(raw); i++ {
					raw[i] = subackRefusal
				}
				p.rec.refused(n, now, binary.BigEndian.Uint16(body))
			}
		}
		if _, err := dst.Write(raw); err != nil {
			return
		}
	}
}

// readPacket reads one MQTT control packet: the whole packet as read, its
// type and its variable header and payload.
func readPacket(r *bufio.Reader) (raw []byte, typ byte, body []byte, err error) {
	h, err := r.ReadByte()
	if err != nil {
		return nil, 0, nil, err
	}
	raw = append(raw, h)
	n, mul := 0, 1
	for i := 0; ; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return nil, 0, nil, err
		}
		raw = append(raw, b)
		n += int(b&0x7f) * mul
		if b&0x80 == 0 {
			break
		}
		if i == 3 {
			return nil, 0, nil, errors.New("remaining length over 4 bytes")
		}
		mul *= 128
	}
	if n > maxProxyPacket {
		return nil, 0, nil, fmt.Errorf("packet of %d bytes", n)
	}
	hl := len(raw)
	raw = append(raw, make([]byte, n)...)
	if _, err := io.ReadFull(r, raw[hl:]); err != nil {
		return nil, 0, nil, err
	}
	return raw, h >> 4, raw[hl:], nil
}

// connectInfo is what a CONNECT says.
type connectInfo struct {
	Protocol    string
	Level       byte // 4: MQTT 3.1.1
	ClientID    string
	Username    string
	HasUsername bool
	HasPassword bool
	Clean       bool
	KeepAliveS  uint16
	Will        bool
	WillTopic   string
	WillQoS     byte
	WillRetain  bool
	WillPayload []byte
}

// reader reads the fields of a packet body.
type reader struct {
	b   []byte
	err error
}

func (r *reader) u8() byte {
	if r.err != nil || len(r.b) < 1 {
		r.err = errors.New("packet too short")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if r.err != nil || len(r.b) < 2 {
		r.err = errors.New("packet too short")
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes() []byte {
	n := int(r.u16())
	if r.err != nil || len(r.b) < n {
		r.err = errors.New("packet too short")
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func parseConnect(body []byte) (connectInfo, error) {
	r := &reader{b: body}
	var c connectInfo
	c.Protocol = string(r.bytes())
	c.Level = r.u8()
	flags := r.u8()
	c.KeepAliveS = r.u16()
	c.ClientID = string(r.bytes())
	c.Clean = flags&0x02 != 0
	c.Will = flags&0x04 != 0
	c.WillQoS = (flags >> 3) & 0x03
	c.WillRetain = flags&0x20 != 0
	c.HasPassword = flags&0x40 != 0
	c.HasUsername = flags&0x80 != 0
	if c.Will {
		c.WillTopic = string(r.bytes())
		c.WillPayload = append([]byte(nil), r.bytes()...)
	}
	if c.HasUsername {
		c.Username = string(r.bytes())
	}
	return c, r.err
}

// filter is one topic filter of a SUBSCRIBE with the QoS asked for.
type filter struct {
	Filter string
	QoS    byte
}

func parseSubscribe(body []byte) (uint16, []filter, error) {
	r := &reader{b: body}
	id := r.u16()
	var fs []filter
	for r.err == nil && len(r.b) > 0 {
		f := string(r.bytes())
		q := r.u8()
		fs = append(fs, filter{f, q})
	}
	return id, fs, r.err
}

// publish is one PUBLISH the robot sent.
type publish struct {
	At      time.Time
	Conn    int
	Gen     int // robot process, from 1
	Topic   string
	QoS     byte
	Retain  bool
	Dup     bool
	Payload []byte
}

func parsePublish(flags byte, body []byte) (publish, error) {
	r := &reader{b: body}
	p := publish{Retain: flags&0x01 != 0, QoS: (flags >> 1) & 0x03, Dup: flags&0x08 != 0}
	p.Topic = string(r.bytes())
	if p.QoS > 0 {
		r.u16()
	}
	if r.err != nil {
		return p, r.err
	}
	p.Payload = append([]byte(nil), r.b...)
	return p, nil
}
