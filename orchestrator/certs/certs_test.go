package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"collaborate/internal/testkit"
	"collaborate/orchestrator/certs"
)

func names(hosts ...string) certs.Names {
	var n certs.Names
	n.Add(hosts...)
	return n
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestEnsure: a first call makes a CA and a server certificate that carries
// every name asked for and verifies against the CA, in Go (as robots and
// browsers do) and with openssl; keys are 0600.
func TestEnsure(t *testing.T) {
	d := certs.Dir(filepath.Join(t.TempDir(), "tls"))
	want := names("laptop", "laptop.local", "localhost", "127.0.0.1", "192.168.4.10", "fd00::10")
	res, err := d.Ensure(want, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !res.NewCA || !res.NewServer {
		t.Fatalf("first Ensure = %+v, want a new CA and server certificate", res)
	}
	for f, m := range map[string]os.FileMode{certs.CAKey: 0o600, certs.ServerKey: 0o600, certs.CACert: 0o644, certs.ServerCert: 0o644} {
		if got := mode(t, d.Path(f)); got != m {
			t.Errorf("%s mode %o, want %o", f, got, m)
		}
	}
	pool, err := certs.Pool(d.Path(certs.CACert))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := certs.ReadCert(d.Path(certs.ServerCert))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"laptop", "laptop.local", "localhost", "127.0.0.1", "192.168.4.10", "fd00::10"} {
		if _, err := srv.Verify(x509.VerifyOptions{DNSName: h, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("verify as %s: %v", h, err)
		}
	}
	if _, err := srv.Verify(x509.VerifyOptions{DNSName: "elsewhere", Roots: pool}); err == nil {
		t.Error("the certificate verified for a name it does not carry")
	}
	ca, _ := certs.ReadCert(d.Path(certs.CACert))
	if !ca.IsCA || srv.IsCA {
		t.Errorf("IsCA: CA %v, server %v", ca.IsCA, srv.IsCA)
	}
	t.Run("openssl verify", func(t *testing.T) {
		bin := testkit.RequireTool(t, "openssl", "openssl")
		out, err := exec.Command(bin, "verify", "-CAfile", d.Path(certs.CACert), d.Path(certs.ServerCert)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), ": OK") {
			t.Fatalf("openssl verify: %v\n%s", err, out)
		}
	})

	t.Run("a second call changes nothing", func(t *testing.T) {
		before, _ := os.ReadFile(d.Path(certs.ServerCert))
		res, err := d.Ensure(names("laptop", "192.168.4.10"), time.Now())
		if err != nil || res.NewCA || res.NewServer {
			t.Fatalf("Ensure again = %+v, %v; want nothing new", res, err)
		}
		after, _ := os.ReadFile(d.Path(certs.ServerCert))
		if string(before) != string(after) {
			t.Error("the server certificate changed")
		}
	})
	t.Run("a new name renews the certificate, keeps the CA and the old names", func(t *testing.T) {
		caBefore, _ := os.ReadFile(d.Path(certs.CACert))
		res, err := d.Ensure(names("10.0.0.7"), time.Now())
		if err != nil || res.NewCA || !res.NewServer || res.Why != "new names" {
			t.Fatalf("Ensure with a new IP = %+v, %v", res, err)
		}
		caAfter, _ := os.ReadFile(d.Path(certs.CACert))
		if string(caBefore) != string(caAfter) {
			t.Fatal("the CA changed: every robot would need a new ca.crt")
		}
		srv, _ := certs.ReadCert(d.Path(certs.ServerCert))
		if !certs.NamesOf(srv).Covers(names("10.0.0.7", "laptop", "192.168.4.10", "fd00::10")) {
			t.Errorf("renewed names %v lack new or old ones", certs.NamesOf(srv))
		}
	})
	t.Run("a certificate near its end is renewed", func(t *testing.T) {
		res, err := d.Ensure(names("laptop"), time.Now().Add(certs.ServerLifetime-certs.RenewBefore/2))
		if err != nil || !res.NewServer || !strings.HasPrefix(res.Why, "expiring") {
			t.Fatalf("Ensure near the end = %+v, %v", res, err)
		}
	})
	t.Run("another CA's certificate is replaced", func(t *testing.T) {
		other := certs.Dir(t.TempDir())
		if _, err := other.Ensure(names("laptop"), time.Now()); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(other.Path(certs.ServerCert))
		if err := os.WriteFile(d.Path(certs.ServerCert), b, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := d.Ensure(names("laptop"), time.Now())
		if err != nil || !res.NewServer || !strings.Contains(res.Why, "not signed") {
			t.Fatalf("Ensure over a foreign certificate = %+v, %v", res, err)
		}
	})
}

func TestCheckHost(t *testing.T) {
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"laptop", true}, {"laptop.local", true}, {"192.168.4.10", true}, {"[fd00::1]", true}, {"fd00::1", true},
		{"", false}, {"bad host", false}, {"-x.local", false}, {"a..b", false}, {"x_y", false},
	} {
		if err := certs.CheckHost(tc.host); (err == nil) != tc.ok {
			t.Errorf("CheckHost(%q) = %v, want ok %v", tc.host, err, tc.ok)
		}
	}
}

func TestLocal(t *testing.T) {
	n := certs.Local()
	if !slices.Contains(n.DNS, "localhost") || !slices.ContainsFunc(n.IPs, net.IPv4(127, 0, 0, 1).Equal) {
		t.Fatalf("Local() = %v, want localhost and 127.0.0.1", n)
	}
	if h, err := os.Hostname(); err == nil && !slices.Contains(n.DNS, strings.ToLower(h)) {
		t.Errorf("Local() = %v lacks the hostname %s", n, h)
	}
}

// TestReloader: a server using the Reloader serves a renewed certificate
// to the next client, without a restart.
func TestReloader(t *testing.T) {
	d := certs.Dir(t.TempDir())
	if _, err := d.Ensure(names("127.0.0.1"), time.Now()); err != nil {
		t.Fatal(err)
	}
	r, err := certs.NewReloader(d.Path(certs.ServerCert), d.Path(certs.ServerKey))
	if err != nil {
		t.Fatal(err)
	}
	addr := testkit.ServeTLS(t, r.Config())
	pool, _ := certs.Pool(d.Path(certs.CACert))
	dial := func(name string) error {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: name})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial("127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if err := dial("laptop.example"); err == nil {
		t.Fatal("verified for a name not in the certificate")
	}
	if _, err := d.Ensure(names("laptop.example"), time.Now()); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "the renewed certificate to be served", func() bool { return dial("laptop.example") == nil })
	if err := dial("127.0.0.1"); err != nil {
		t.Errorf("the renewed certificate lost a name: %v", err)
	}
}

func TestBadFiles(t *testing.T) {
	d := certs.Dir(t.TempDir())
	if err := os.WriteFile(d.Path(certs.CACert), []byte("not PEM"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Ensure(names("x"), time.Now()); err == nil || !strings.Contains(err.Error(), "no PEM") {
		t.Errorf("Ensure over a broken ca.crt = %v, want a PEM error", err)
	}
	if _, err := certs.NewReloader(d.Path("missing.crt"), d.Path("missing.key")); err == nil {
		t.Error("NewReloader of missing files succeeded")
	}
}
