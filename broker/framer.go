package broker

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
)

// tooLargeMark starts the payload that replaces the payload of a PUBLISH
// over the packet limit; the decimal size of the original packet follows.
// It is not JSON, so nothing in the contract can mistake it for a message.
var tooLargeMark = []byte("\x00collaborate: packet too large: ")

// framer passes a client's MQTT packets through to mochi unchanged, except
// a PUBLISH larger than max bytes: its payload is read and thrown away as it
// arrives (never held in memory, whatever its size), and mochi receives the
// same PUBLISH (flags, topic, packet id) with a short payload that says how
// large it was. The guard then acknowledges and drops it.
//
// Why: mochi closes the connection of a client whose packet is over its
// limit, without an acknowledgement, and an MQTT 3.1.1 client such as paho
// sends the same QoS 1 message again after every reconnect: a loop that
// never ends, each turn firing the robot's last will. MQTT 3.1.1 has no way
// to tell a client the limit at CONNACK. Other packets over the limit
// (a huge SUBSCRIBE or CONNECT) still close the connection: no client
// resends those.
type framer struct {
	src *bufio.Reader
	max int
	v5  bool   // the client's CONNECT said MQTT 5: a PUBLISH has properties
	out []byte // bytes to hand out before reading on
	// pass is how many bytes of the current packet still go through as is.
	pass int
	// onRead, when set, runs once, at the first Read: mochi has created
	// the client then (see sizer).
	onRead func()
}

// errMalformed ends a connection whose framing cannot be followed.
var errMalformed = errors.New("malformed MQTT packet")

func newFramer(r io.Reader, max int) *framer {
	return &framer{src: bufio.NewReaderSize(r, 4096), max: max}
}

func (f *framer) Read(p []byte) (int, error) {
	if f.onRead != nil {
		f.onRead()
		f.onRead = nil
	}
	for {
		if len(f.out) > 0 {
			n := copy(p, f.out)
			f.out = f.out[n:]
			return n, nil
		}
		if f.pass > 0 {
			if len(p) > f.pass {
				p = p[:f.pass]
			}
			n, err := f.src.Read(p)
			f.pass -= n
			return n, err
		}
		if err := f.next(); err != nil {
			return 0, err
		}
	}
}

// next reads the fixed header of the next packet and decides what to pass.
func (f *framer) next() error {
	b0, err := f.src.ReadByte()
	if err != nil {
		return err
	}
	remaining, lenBytes, err := readVarint(f.src)
	if err != nil {
		return err
	}
	typ := b0 >> 4
	if typ == 1 { // CONNECT: note the protocol level without consuming it
		f.v5 = f.peekV5()
	}
	if typ != 3 || 1+len(lenBytes)+remaining <= f.max {
		f.out = append(append(f.out[:0], b0), lenBytes...)
		f.pass = remaining
		return nil
	}
	return f.shrink(b0, remaining, 1+len(lenBytes)+remaining)
}

// peekV5 reads the protocol level of a CONNECT whose fixed header was just
// read, without consuming it.
func (f *framer) peekV5() bool {
	b, err := f.src.Peek(2)
	if err != nil {
		return false
	}
	b, _ = f.src.Peek(min(2+(int(b[0])<<8|int(b[1]))+1, 2+16+1)) // isV5 judges a longer name
	return isV5(b)
}

// isV5 reports whether a CONNECT's variable header, b, says MQTT 5: a
// 2-byte name length, the name ("MQTT" or "MQIsdp"), the level.
func isV5(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	n := int(b[0])<<8 | int(b[1])
	return n <= 16 && len(b) > 2+n && b[2+n] == 5
}

// shrink replaces an oversized PUBLISH: it keeps the variable header (topic,
// packet id; MQTT 5 properties are dropped) and discards the payload.
func (f *framer) shrink(b0 byte, remaining, total int) error {
	left := remaining
	take := func(n int) ([]byte, error) {
		if n > left {
			return nil, errMalformed
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(f.src, b); err != nil {
			return nil, err
		}
		left -= n
		return b, nil
	}
	tl, err := take(2)
	if err != nil {
		return err
	}
	topic, err := take(int(tl[0])<<8 | int(tl[1]))
	if err != nil {
		return err
	}
	var pid []byte
	if (b0>>1)&3 > 0 {
		if pid, err = take(2); err != nil {
			return err
		}
	}
	var props []byte
	if f.v5 {
		n, nb, err := readVarint(f.src)
		if err != nil {
			return err
		}
		left -= len(nb)
		if n > left || left < 0 {
			return errMalformed
		}
		if _, err := io.CopyN(io.Discard, f.src, int64(n)); err != nil {
			return err
		}
		left -= n
		props = []byte{0}
	}
	if _, err := io.CopyN(io.Discard, f.src, int64(left)); err != nil {
		return err
	}
	var vh bytes.Buffer
	vh.Write(tl)
	vh.Write(topic)
	vh.Write(pid)
	vh.Write(props)
	vh.Write(tooLargeMark)
	vh.WriteString(strconv.Itoa(total))
	f.out = append(append(f.out[:0], b0), encodeVarint(vh.Len())...)
	f.out = append(f.out, vh.Bytes()...)
	return nil
}

// readVarint reads an MQTT variable byte integer and returns it with its
// bytes.
func readVarint(r io.ByteReader) (int, []byte, error) {
	var v, shift int
	var raw []byte
	for i := 0; i < 4; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		raw = append(raw, b)
		v |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			return v, raw, nil
		}
		shift += 7
	}
	return 0, nil, fmt.Errorf("%w: remaining length longer than 4 bytes", errMalformed)
}

func encodeVarint(v int) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v > 0 {
			b |= 0x80
		}
		out = append(out, b)
		if v == 0 {
			return out
		}
	}
}

// tooLarge reports whether a payload stands for a PUBLISH the framer
// shrank, and how large that packet was.
func tooLarge(payload []byte) (int, bool) {
	rest, ok := bytes.CutPrefix(payload, tooLargeMark)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(string(rest))
	return n, err == nil
}

// framedConn reads through a framer.
type framedConn struct {
	net.Conn
	f *framer
}

func (c *framedConn) Read(p []byte) (int, error) { return c.f.Read(p) }
