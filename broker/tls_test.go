package broker

import (
	"crypto/tls"
	"testing"

	"collaborate/internal/testkit"
	"collaborate/topics"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// TestTLS: a client that trusts the CA connects and publishes over TLS; one
// that trusts another CA is refused; mosquitto_pub works with --cafile.
func TestTLS(t *testing.T) {
	ca := testkit.NewTLS(t)
	b := startBroker(t, Options{TCPAddr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0", TLSCert: ca.CertFile, TLSKey: ca.KeyFile})
	url := "ssl://" + b.Addrs().TLS
	in := newInbox()
	topic := topics.Robot("r1", topics.KindPose)
	if err := b.Subscribe(topic, 1, in.add); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		desc string
		ca   *testkit.TLS
		ok   bool
	}{
		{"trusted CA", ca, true},
		{"wrong CA", testkit.NewTLS(t), false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			o := pahoOpts(t, url, "r1", "r1").SetConnectRetry(false).SetAutoReconnect(false).
				SetTLSConfig(&tls.Config{RootCAs: c.ca.Pool(t), MinVersion: tls.VersionTLS12})
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
			testkit.Eventually(t, wait, "the pose sent over TLS", func() bool { return in.has(topic, string(p)) })
		})
	}

	t.Run("mosquitto_pub --cafile", func(t *testing.T) {
		needMosquitto(t)
		p := posePayload(t, "r1", 0.8)
		if out, err := mosqPub(t, b.Addrs().TLS, "r1", "r1", "--cafile", ca.CAFile, "-q", "1", "-t", topic, "-m", string(p)); err != nil {
			t.Fatalf("mosquitto_pub over TLS: %v: %s", err, out)
		}
		testkit.Eventually(t, wait, "the pose sent by mosquitto_pub over TLS", func() bool { return in.has(topic, string(p)) })
	})
}
