package link_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/listeners"

	"collaborate/robot/link"
	"collaborate/topics"
)

// selfSigned makes a certificate for 127.0.0.1 and writes it, as the CA
// to trust, to a PEM file.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "collaborate test broker"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, ca
}

// freeAddr finds a loopback port for listeners that cannot report the port
// they were given (mochi's websocket listener).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestBrokerURLSchemes(t *testing.T) {
	cert, caFile := selfSigned(t)
	for _, tc := range []struct {
		scheme string
		start  func(t *testing.T) *broker
		url    func(b *broker) string
		ca     string
	}{
		{"tcp", func(t *testing.T) *broker { return startBroker(t, "127.0.0.1:0") },
			func(b *broker) string { return "tcp://" + b.addr }, ""},
		{"tls", func(t *testing.T) *broker {
			return startBrokerOn(t, listeners.NewTCP(listeners.Config{ID: "tls", Address: "127.0.0.1:0",
				TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}))
		}, func(b *broker) string { return "tls://" + b.addr }, caFile},
		{"ws", func(t *testing.T) *broker {
			return startBrokerOn(t, listeners.NewWebsocket(listeners.Config{ID: "ws", Address: freeAddr(t)}))
		}, func(b *broker) string { return "ws://" + b.addr }, ""},
	} {
		t.Run(tc.scheme, func(t *testing.T) {
			b := tc.start(t)
			l := dial(t, "", func(o *link.Options) { o.BrokerURL = tc.url(b); o.CAFile = tc.ca })
			eventually(t, "connected over "+tc.scheme, connected(l))
			if err := l.Publish(topics.KindEvents, &topics.Event{Header: l.Stamp(topics.KindEvents), Kind: topics.EventAck, Epoch: 1, CmdSeq: 2}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "event at the broker", func() bool { return len(b.on("robots/r1/events")) == 1 })
			b.publish(t, topics.Robot("r1", topics.KindCmd), &topics.Directive{Header: orch(3), Epoch: 1, Kind: topics.DirStop})
			if in := receive(t, l); in.Directive == nil || in.Directive.Kind != topics.DirStop {
				t.Fatalf("inbound %+v, want the stop", in)
			}
		})
	}
}

// TestBrokerList: with a comma-separated list of brokers (a cluster's
// nodes), the link connects to the first that answers, and when that one
// dies it reconnects to another and carries on.
func TestBrokerList(t *testing.T) {
	dead := freeAddr(t) // nothing listens there
	a, b := startBroker(t, "127.0.0.1:0"), startBroker(t, "127.0.0.1:0")
	l := dial(t, "", func(o *link.Options) {
		o.BrokerURL = "tcp://" + dead + ", tcp://" + a.addr + ",tcp://" + b.addr
		o.RetryInterval = 100 * time.Millisecond
	})
	send := func(n uint64) {
		t.Helper()
		if err := l.Publish(topics.KindEvents, &topics.Event{Header: l.Stamp(topics.KindEvents), Kind: topics.EventAck, Epoch: 1, CmdSeq: n}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "connected past the dead node", connected(l))
	send(1)
	eventually(t, "the event at the first live node", func() bool { return len(a.on("robots/r1/events")) == 1 })
	a.stop()
	eventually(t, "reconnected to the next node", func() bool { return l.Stats().Connects >= 2 && l.State().Connected })
	send(2)
	eventually(t, "the event at the next node", func() bool { return len(b.on("robots/r1/events")) >= 1 })
	for _, bad := range []string{"", " , ", "tcp://" + a.addr + ",http://x:1"} {
		if _, err := link.Dial(link.Options{BrokerURL: bad, RobotID: "r1"}); err == nil {
			t.Errorf("Dial with broker list %q succeeded", bad)
		}
	}
}
