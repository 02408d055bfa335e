package deploy_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"collaborate/internal/testkit"
)

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func mkcerts(t *testing.T, out string, args ...string) string {
	t.Helper()
	testkit.RequireTool(t, "openssl", "openssl")
	return run(t, ".", "bash", append([]string{"mkcerts.sh", "--out", out}, args...)...)
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

func pool(t *testing.T, caPath string) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	b, err := os.ReadFile(caPath)
	if err != nil {
		t.Fatal(err)
	}
	if !p.AppendCertsFromPEM(b) {
		t.Fatalf("%s: no certificate", caPath)
	}
	return p
}

func TestMkcertsSANsAndChain(t *testing.T) {
	dir := t.TempDir()
	out := mkcerts(t, dir, "--host", "laptop", "--host", "laptop.local", "--ip", "192.168.4.10", "--ip", "fd00::10")
	for _, f := range []string{"ca.crt", "ca.key", "server.crt", "server.key", "robot-tls.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("missing %s: %v\n%s", f, err, out)
		}
	}
	if got := run(t, dir, "openssl", "verify", "-CAfile", "ca.crt", "server.crt"); !strings.Contains(got, "server.crt: OK") {
		t.Fatalf("openssl verify: %s", got)
	}
	san := run(t, dir, "openssl", "x509", "-in", "server.crt", "-noout", "-ext", "subjectAltName")
	for _, want := range []string{"DNS:laptop", "DNS:laptop.local", "IP Address:192.168.4.10", "IP Address:FD00:0:0:0:0:0:0:10", "DNS:localhost", "IP Address:127.0.0.1"} {
		if !strings.Contains(san, want) {
			t.Errorf("SANs %q lack %q", san, want)
		}
	}
	// Go's verifier is what the robots use (paho over crypto/tls).
	cert := readCert(t, filepath.Join(dir, "server.crt"))
	for _, name := range []string{"laptop", "laptop.local", "192.168.4.10", "fd00::10", "localhost"} {
		t.Run("verify "+name, func(t *testing.T) {
			_, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: pool(t, filepath.Join(dir, "ca.crt")),
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			if err != nil {
				t.Fatalf("verify as %s: %v", name, err)
			}
		})
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "other-host", Roots: pool(t, filepath.Join(dir, "ca.crt"))}); err == nil {
		t.Fatal("certificate verified for a name it does not carry")
	}
	ca := readCert(t, filepath.Join(dir, "ca.crt"))
	if !ca.IsCA || cert.IsCA {
		t.Fatalf("IsCA: ca %v, server %v", ca.IsCA, cert.IsCA)
	}
	modes := map[string]os.FileMode{"ca.key": 0o600, "server.key": 0o640}
	for f, want := range modes {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s mode %o, want %o", f, got, want)
		}
	}
	lines, err := os.ReadFile(filepath.Join(dir, "robot-tls.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"broker: tls://192.168.4.10:8883\n", "tls_ca: /etc/collaborate/ca.crt\n"} {
		if !strings.Contains(string(lines), want) {
			t.Errorf("robot-tls.yaml lacks %q:\n%s", want, lines)
		}
	}
	if !strings.Contains(out, "broker: tls://192.168.4.10:8883") {
		t.Errorf("mkcerts did not print the robot config lines:\n%s", out)
	}
}

// TestMkcertsTLSHandshake serves the certificate on loopback and connects
// with the right CA (accepted) and with another run's CA (refused).
func TestMkcertsTLSHandshake(t *testing.T) {
	good, other := t.TempDir(), t.TempDir()
	mkcerts(t, good, "--host", "laptop", "--ip", "10.9.8.7")
	mkcerts(t, other, "--host", "laptop", "--ip", "10.9.8.7")
	kp, err := tls.LoadX509KeyPair(filepath.Join(good, "server.crt"), filepath.Join(good, "server.key"))
	if err != nil {
		t.Fatalf("the broker cannot load the pair: %v", err)
	}
	addr := testkit.ServeTLS(t, &tls.Config{Certificates: []tls.Certificate{kp}})
	tests := []struct {
		desc, ca, name string
		ok             bool
	}{
		{"right CA, by name", good, "laptop", true},
		{"right CA, by IP", good, "10.9.8.7", true},
		{"wrong CA", other, "laptop", false},
		{"right CA, wrong name", good, "elsewhere", false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool(t, filepath.Join(tc.ca, "ca.crt")), ServerName: tc.name})
			if c != nil {
				c.Close()
			}
			if tc.ok && err != nil {
				t.Fatalf("handshake refused: %v", err)
			}
			var uerr x509.UnknownAuthorityError
			var herr x509.HostnameError
			if !tc.ok && !(errors.As(err, &uerr) || errors.As(err, &herr)) {
				t.Fatalf("handshake error = %v, want an unknown-authority or hostname error", err)
			}
		})
	}
}

func TestMkcertsKeepsTheCA(t *testing.T) {
	dir := t.TempDir()
	mkcerts(t, dir, "--host", "a", "--ip", "10.0.0.1")
	ca1 := readCert(t, filepath.Join(dir, "ca.crt"))
	out := mkcerts(t, dir, "--host", "a", "--ip", "10.0.0.2") // the laptop's IP changed
	ca2 := readCert(t, filepath.Join(dir, "ca.crt"))
	if !ca1.Equal(ca2) {
		t.Fatalf("a second run replaced the CA; robots would need a new ca.crt\n%s", out)
	}
	cert := readCert(t, filepath.Join(dir, "server.crt"))
	if !slices.ContainsFunc(cert.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.ParseIP("10.0.0.2")) }) {
		t.Fatalf("renewed certificate IPs %v lack 10.0.0.2", cert.IPAddresses)
	}
	run(t, dir, "openssl", "verify", "-CAfile", "ca.crt", "server.crt")
	mkcerts(t, dir, "--host", "a", "--force-ca")
	if ca3 := readCert(t, filepath.Join(dir, "ca.crt")); ca3.Equal(ca1) {
		t.Fatal("--force-ca kept the old CA")
	}
	run(t, dir, "openssl", "verify", "-CAfile", "ca.crt", "server.crt")
}

func TestMkcertsAutoDetect(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skip("no hostname")
	}
	dir := t.TempDir()
	mkcerts(t, dir)
	cert := readCert(t, filepath.Join(dir, "server.crt"))
	if !slices.Contains(cert.DNSNames, host) || !slices.Contains(cert.DNSNames, host+".local") {
		t.Fatalf("DNS SANs %v lack this machine's name %q", cert.DNSNames, host)
	}
}

func TestMkcertsRejectsBadArguments(t *testing.T) {
	testkit.RequireTool(t, "openssl", "openssl")
	for _, args := range [][]string{
		{"--ip", "not-an-ip"},
		{"--days", "ten"},
		{"--bogus"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			cmd := exec.Command("bash", append([]string{"mkcerts.sh", "--out", t.TempDir()}, args...)...)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "mkcerts:") {
				t.Fatalf("mkcerts %v succeeded or said nothing: %v\n%s", args, err, out)
			}
		})
	}
}
