package testkit

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"collaborate/orchestrator/certs"
)

// TLS is a CA and a server certificate for 127.0.0.1 and localhost signed
// by it, made by the orchestrator's certs package (as the orchestrator
// makes its own) in a directory of the test. Each NewTLS makes another CA.
type TLS struct {
	CAFile   string // the CA's certificate, PEM: what clients trust
	CertFile string // the server certificate, PEM
	KeyFile  string // the server certificate's key, PEM
}

// NewTLS makes a CA and a server certificate in a new temporary directory.
func NewTLS(t testing.TB) *TLS {
	t.Helper()
	d := certs.Dir(t.TempDir())
	var names certs.Names
	names.Add("127.0.0.1", "localhost")
	if _, err := d.Ensure(names, time.Now()); err != nil {
		t.Fatalf("make a test CA and server certificate: %v", err)
	}
	return &TLS{CAFile: d.Path(certs.CACert), CertFile: d.Path(certs.ServerCert), KeyFile: d.Path(certs.ServerKey)}
}

// Pool holds the CA alone, for a client's RootCAs.
func (c *TLS) Pool(t testing.TB) *x509.CertPool {
	t.Helper()
	p, err := certs.Pool(c.CAFile)
	if err != nil {
		t.Fatalf("test CA pool: %v", err)
	}
	return p
}

// Certificate is the server certificate with its key, for a server's
// tls.Config.
func (c *TLS) Certificate(t testing.TB) tls.Certificate {
	t.Helper()
	kp, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		t.Fatalf("test server certificate: %v", err)
	}
	return kp
}

// ServeTLS listens on a loopback port with cfg, completes the handshake of
// each connection and closes it, until the test ends; it returns the
// address. It is the server side of a test of what a client's handshake
// accepts.
func ServeTLS(t testing.TB, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	return ln.Addr().String()
}
