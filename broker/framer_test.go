package broker

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

func encode(t *testing.T, pk packets.Packet) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&buf)
	case packets.Publish:
		err = pk.PublishEncode(&buf)
	case packets.Pingreq:
		err = pk.PingreqEncode(&buf)
	default:
		t.Fatalf("no encoder for type %d", pk.FixedHeader.Type)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decodeAll reads every packet of a stream with mochi's own decoders, as
// mochi reads what the framer hands it.
func decodeAll(t *testing.T, b []byte, version byte) []packets.Packet {
	t.Helper()
	var out []packets.Packet
	for len(b) > 0 {
		fh := packets.FixedHeader{}
		if err := fh.Decode(b[0]); err != nil {
			t.Fatal(err)
		}
		n, lb, err := readVarint(bytes.NewReader(b[1:]))
		if err != nil {
			t.Fatal(err)
		}
		fh.Remaining = n
		body := b[1+len(lb) : 1+len(lb)+n]
		pk := packets.Packet{FixedHeader: fh, ProtocolVersion: version}
		switch fh.Type {
		case packets.Connect:
			err = pk.ConnectDecode(body)
		case packets.Publish:
			err = pk.PublishDecode(body)
		}
		if err != nil {
			t.Fatalf("decode packet type %d: %v", fh.Type, err)
		}
		out = append(out, pk)
		b = b[1+len(lb)+n:]
	}
	return out
}

func TestFramerShrinksOnlyOversizedPublishes(t *testing.T) {
	for _, version := range []byte{4, 5} {
		t.Run(map[byte]string{4: "MQTT 3.1.1", 5: "MQTT 5"}[version], func(t *testing.T) {
			const max = 1024
			connect := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: version,
				Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, ClientIdentifier: "r1", Keepalive: 3}}
			small := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, ProtocolVersion: version,
				TopicName: "robots/r1/pose", PacketID: 7, Payload: []byte(`{"small":true}`)}
			big := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1, Retain: true}, ProtocolVersion: version,
				TopicName: "robots/r1/status", PacketID: 8, Payload: bytes.Repeat([]byte("x"), 300*1024)}
			big0 := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, ProtocolVersion: version,
				TopicName: "robots/r1/pose", Payload: bytes.Repeat([]byte("y"), 5*max)}
			if version == 5 {
				big.Properties.ContentType = strings.Repeat("c", 100)
			}
			ping := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}}
			var in []byte
			for _, pk := range []packets.Packet{connect, small, big, ping, big0, small} {
				in = append(in, encode(t, pk)...)
			}
			// Read in awkward pieces, as a network delivers them.
			f := newFramer(bytes.NewReader(in), max)
			var got []byte
			buf := make([]byte, 333)
			for {
				n, err := f.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			pks := decodeAll(t, got, version)
			if len(pks) != 6 {
				t.Fatalf("%d packets out, want 6", len(pks))
			}
			for _, i := range []int{1, 5} {
				if string(pks[i].Payload) != `{"small":true}` || pks[i].PacketID != 7 {
					t.Errorf("packet %d changed: %+v", i, pks[i])
				}
			}
			for _, c := range []struct {
				i    int
				orig packets.Packet
			}{{2, big}, {4, big0}} {
				pk := pks[c.i]
				n, ok := tooLarge(pk.Payload)
				if !ok || n != len(encode(t, c.orig)) {
					t.Errorf("packet %d payload %q, want the too-large mark with size %d", c.i, pk.Payload, len(encode(t, c.orig)))
				}
				if pk.TopicName != c.orig.TopicName || pk.PacketID != c.orig.PacketID ||
					pk.FixedHeader.Qos != c.orig.FixedHeader.Qos || pk.FixedHeader.Retain != c.orig.FixedHeader.Retain {
					t.Errorf("packet %d is %+v, want the header of %+v", c.i, pk.FixedHeader, c.orig.FixedHeader)
				}
			}
			if pks[3].FixedHeader.Type != packets.Pingreq {
				t.Errorf("packet 3 is type %d, want PINGREQ", pks[3].FixedHeader.Type)
			}
		})
	}
}

func TestFramerRejectsMalformedLength(t *testing.T) {
	// A remaining length of five bytes is not MQTT.
	f := newFramer(bytes.NewReader([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}), 1024)
	if _, err := f.Read(make([]byte, 10)); err == nil {
		t.Fatal("a five-byte remaining length was accepted")
	}
	// An oversized PUBLISH whose topic length runs past the packet.
	pk := append([]byte{0x30}, encodeVarint(3000)...)
	pk = append(pk, 0xff, 0xff)
	f = newFramer(bytes.NewReader(append(pk, make([]byte, 2998)...)), 1024)
	if _, err := f.Read(make([]byte, 10)); err == nil {
		t.Fatal("a topic longer than its packet was accepted")
	}
}
