package testkit

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestTLSHandshake(t *testing.T) {
	c := NewTLS(t)
	addr := ServeTLS(t, &tls.Config{Certificates: []tls.Certificate{c.Certificate(t)}})
	other := NewTLS(t)
	for _, tc := range []struct {
		desc, name string
		ca         *TLS
		ok         bool
	}{
		{"its CA, by IP", "127.0.0.1", c, true},
		{"its CA, by name", "localhost", c, true},
		{"its CA, another name", "elsewhere", c, false},
		{"another CA", "127.0.0.1", other, false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: tc.ca.Pool(t), ServerName: tc.name})
			if conn != nil {
				conn.Close()
			}
			if (err == nil) != tc.ok {
				t.Fatalf("handshake error %v, want success %v", err, tc.ok)
			}
		})
	}
}

func TestProxyCut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		}
	}()
	p := StartProxy(t, ln.Addr().String())
	echo := func() (net.Conn, error) {
		c, err := net.Dial("tcp", p.Addr)
		if err != nil {
			return nil, err
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("ping\n")); err != nil {
			return c, err
		}
		b := make([]byte, 5)
		_, err = io.ReadFull(c, b)
		if err == nil && string(b) != "ping\n" {
			t.Fatalf("echo through the proxy: %q", b)
		}
		return c, err
	}
	c, err := echo()
	if err != nil {
		t.Fatalf("echo through the proxy: %v", err)
	}
	defer c.Close()
	p.Cut()
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("a read after Cut succeeded")
	}
	c2, err := echo()
	if err != nil {
		t.Fatalf("a new connection after Cut: %v", err)
	}
	c2.Close()
}

func TestEventuallyDetail(t *testing.T) {
	ft := &fakeT{TB: t}
	func() {
		defer func() { _ = recover() }()
		EventuallyEvery(ft, 30*time.Millisecond, 5*time.Millisecond, "never", func() bool { return false },
			func() string { return "what it saw" })
	}()
	if !strings.Contains(ft.msg, "waiting for never") || !strings.Contains(ft.msg, "what it saw") {
		t.Fatalf("failure message %q lacks what it waited for and what it saw", ft.msg)
	}
}

func TestMissing(t *testing.T) {
	for _, require := range []string{"", "1", "yes"} {
		t.Run("COLLABORATE_REQUIRE_TOOLS="+require, func(t *testing.T) {
			t.Setenv("COLLABORATE_REQUIRE_TOOLS", require)
			ft := &fakeT{TB: t}
			func() {
				defer func() { _ = recover() }()
				Missing(ft, "frobnicator not installed (apt-get install frob)")
			}()
			wantFail := require == "1"
			if ft.failed != wantFail || ft.skipped == wantFail {
				t.Fatalf("failed %v, skipped %v; want failed %v", ft.failed, ft.skipped, wantFail)
			}
			if !strings.Contains(ft.msg, "apt-get install frob") {
				t.Fatalf("message %q does not say what to install", ft.msg)
			}
		})
	}
}

// fakeT records a Fatal or a Skip instead of ending the test; it panics to
// stop the helper, as runtime.Goexit would.
type fakeT struct {
	testing.TB
	msg             string
	failed, skipped bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	panic("fatal")
}
func (f *fakeT) Skip(args ...any) {
	f.skipped, f.msg = true, fmt.Sprint(args...)
	panic("skip")
}

// TestStartMosquitto: mosquitto starts with the deploy/ configuration,
// restarts on its port, and one that cannot bind its port is reported with
// its log, not waited for.
func TestStartMosquitto(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	passwd := dir + "/passwd"
	MosquittoPasswd(t, passwd, map[string]string{"watch": "watch-pw"})
	m := StartMosquitto(t, root, dir, passwd, "")
	m.Stop()
	m.Restart()
	if c, err := net.Dial("tcp", m.Addr); err != nil {
		t.Fatalf("after Restart: %v", err)
	} else {
		c.Close()
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ft := &fakeT{TB: t}
	func() {
		defer func() { _ = recover() }()
		StartMosquitto(ft, root, t.TempDir(), passwd, busy.Addr().String())
	}()
	if !ft.failed || !strings.Contains(ft.msg, "exited") {
		t.Fatalf("mosquitto on a busy port: failed %v, %q; want a failure saying it exited", ft.failed, ft.msg)
	}
}
