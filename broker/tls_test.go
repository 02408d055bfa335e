package broker

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

	"collaborate/topics"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// serverFiles writes a certificate for 127.0.0.1 signed by ca, and its key.
func (ca *testCA) serverFiles(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "orchestrator"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestTLS: a client that trusts the CA connects and publishes over TLS; one
// that trusts another CA is refused; mosquitto_pub works with --cafile.
func TestTLS(t *testing.T) {
	ca := newCA(t, "fleet CA")
	certFile, keyFile := ca.serverFiles(t)
	b := startBroker(t, Options{TCPAddr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile})
	url := "ssl://" + b.Addrs().TLS
	in := newInbox()
	topic := topics.Robot("r1", topics.KindPose)
	if err := b.Subscribe(topic, 1, in.add); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		desc string
		ca   *testCA
		ok   bool
	}{
		{"trusted CA", ca, true},
		{"wrong CA", newCA(t, "someone else"), false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			o := pahoOpts(t, url, "r1", "r1").SetConnectRetry(false).SetAutoReconnect(false).
				SetTLSConfig(&tls.Config{RootCAs: c.ca.pool(), MinVersion: tls.VersionTLS12})
			cl := paho.NewClient(o)
			tok := cl.Connect()
			if !tok.WaitTimeout(wait) {
				t.Fatal("connect timed out")
			}
			if !c.ok {
				if tok.Error() == nil {
					cl.Disconnect(100)
					t.Fatal("connected with a certificate from an untrusted CA")
				}
				return
			}
			if err := tok.Error(); err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer cl.Disconnect(100)
			p := posePayload(t, "r1", 0.7)
			waitToken(t, "publish over TLS", cl.Publish(topic, 1, false, p))
			eventually(t, "the pose sent over TLS", func() bool { return in.has(topic, string(p)) })
		})
	}

	t.Run("mosquitto_pub --cafile", func(t *testing.T) {
		needMosquitto(t)
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(caFile, ca.pem, 0o600); err != nil {
			t.Fatal(err)
		}
		p := posePayload(t, "r1", 0.8)
		if out, err := mosqPub(t, b.Addrs().TLS, "r1", "r1", "--cafile", caFile, "-q", "1", "-t", topic, "-m", string(p)); err != nil {
			t.Fatalf("mosquitto_pub over TLS: %v: %s", err, out)
		}
		eventually(t, "the pose sent by mosquitto_pub over TLS", func() bool { return in.has(topic, string(p)) })
	})
}
