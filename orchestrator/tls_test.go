package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"collaborate/broker"
	"collaborate/internal/testkit"
	"collaborate/orchestrator/certs"
	"collaborate/topics"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func caPool(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	p, err := certs.Pool(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// httpsClient trusts only the CA in caFile, and keeps cookies.
func httpsClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t, caFile)}}}
}

func login(t *testing.T, c *http.Client, base, user, pass string) *http.Response {
	t.Helper()
	resp, err := c.Post(base+"/login", "application/json", strings.NewReader(fmt.Sprintf(`{"user":%q,"password":%q}`, user, pass)))
	if err != nil {
		t.Fatalf("login as %s: %v", user, err)
	}
	resp.Body.Close()
	return resp
}

// TestTLS: with --tls-addr and no certificate, the first run makes a CA
// and a certificate for this machine and --tls-host; MQTT over TLS and the
// dashboard (HTTPS, Secure cookie) verify against that CA, with paho,
// mosquitto_sub and Go's HTTP client; the dashboard refuses plain HTTP.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir, "--tls-addr", "127.0.0.1:0", "--tls-host", "laptop.example", "--tls-ip", "10.9.8.7")
	ca := filepath.Join(dir, "tls", "ca.crt")
	if !strings.Contains(r.out.String(), ca) {
		t.Errorf("the first run did not say where the CA is:\n%s", r.out.String())
	}
	srv, err := certs.ReadCert(filepath.Join(dir, "tls", "server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	for _, name := range []string{"laptop.example", "10.9.8.7", "localhost", "127.0.0.1", strings.ToLower(host)} {
		if _, err := srv.Verify(x509.VerifyOptions{DNSName: name, Roots: caPool(t, ca)}); err != nil {
			t.Errorf("the server certificate does not verify for %s: %v", name, err)
		}
	}
	base := "https://" + r.addrs["https"]
	if r.addrs["https"] == "" {
		t.Fatalf("no https listener announced:\n%s", r.out.String())
	}

	t.Run("dashboard over HTTPS", func(t *testing.T) {
		c := httpsClient(t, ca)
		resp := login(t, c, base, "orchestrator", initialPassword(t, dir, "orchestrator"))
		if resp.StatusCode != 200 {
			t.Fatalf("login over HTTPS: %s", resp.Status)
		}
		var secure bool
		for _, ck := range resp.Cookies() {
			secure = secure || ck.Secure
		}
		if !secure {
			t.Error("the session cookie is not Secure over HTTPS")
		}
		resp, err := c.Get(base + "/api/fleet")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /api/fleet logged in: %v %v", resp, err)
		}
		resp.Body.Close()
		plain, err := http.Get("http://" + r.addrs["https"] + "/healthz")
		if err == nil {
			b, _ := io.ReadAll(plain.Body)
			plain.Body.Close()
			if plain.StatusCode == 200 {
				t.Errorf("the dashboard answered plain HTTP: %s", b)
			}
		}
		other := certs.Dir(t.TempDir())
		if _, err := other.Ensure(certs.Local(), time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := httpsClient(t, other.Path(certs.CACert)).Get(base + "/healthz"); err == nil {
			t.Error("a client trusting another CA accepted the dashboard")
		}
	})
	t.Run("MQTT over TLS with paho", func(t *testing.T) {
		o := paho.NewClientOptions().AddBroker("tls://" + r.addrs["mqtt-tls"]).SetClientID("tls-watch").
			SetUsername("watch").SetPassword(initialPassword(t, dir, "watch")).SetAutoReconnect(false).
			SetTLSConfig(&tls.Config{RootCAs: caPool(t, ca), ServerName: "laptop.example"})
		c := paho.NewClient(o)
		if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatalf("connect over TLS: %v", tok.Error())
		}
		c.Disconnect(100)
	})
	t.Run("mosquitto_sub --cafile", func(t *testing.T) {
		bin := testkit.RequireTool(t, "mosquitto_sub", "mosquitto-clients")
		_, port, _ := strings.Cut(r.addrs["mqtt-tls"], ":")
		out, err := exec.Command(bin, "-h", "127.0.0.1", "-p", port, "--cafile", ca, "-u", "watch",
			"-P", initialPassword(t, dir, "watch"), "-t", topics.TopicOrchestratorStatus, "-C", "1", "-W", "10").CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"online"`) {
			t.Fatalf("mosquitto_sub over TLS: %v\n%s", err, out)
		}
	})
}

// TestConfigDirWins: what the user provides in --config-dir (credentials,
// a certificate) is served as it is, nothing is ever written there, and
// what is missing is made in the state.
func TestConfigDirWins(t *testing.T) {
	conf, state := t.TempDir(), t.TempDir()
	if out, err := passwd(t, "alice-pw\n", "--credentials", filepath.Join(conf, "credentials.yaml"), "--role", "operator", "alice"); err != nil {
		t.Fatalf("passwd: %v %s", err, out)
	}
	mine := certs.Dir(filepath.Join(conf, "tls"))
	var n certs.Names
	n.Add("mine.example", "127.0.0.1")
	if _, err := mine.Ensure(n, time.Now()); err != nil {
		t.Fatal(err)
	}
	before := snapshotDir(t, conf)
	r := start(t, state, "--config-dir", conf, "--tls-addr", "127.0.0.1:0")

	if _, err := os.Stat(filepath.Join(state, "tls")); err == nil {
		t.Error("the orchestrator made TLS files although the config has a certificate")
	}
	c := httpsClient(t, mine.Path(certs.CACert))
	base := "https://" + r.addrs["https"]
	if resp := login(t, c, base, "alice", "alice-pw"); resp.StatusCode != 200 {
		t.Errorf("the config's operator cannot log in: %s", resp.Status)
	}
	own, err := broker.LoadCredentials(filepath.Join(state, "credentials.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := own.Lookup("orchestrator"); ok {
		t.Error("an orchestrator account was made although the config has an operator")
	}
	if _, ok := own.Lookup("watch"); !ok {
		t.Error("no observer was made although the config has none")
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if after := snapshotDir(t, conf); after != before {
		t.Errorf("the config directory changed:\nbefore %s\nafter  %s", before, after)
	}
}

// snapshotDir describes every file under dir: name, mode, size, content.
func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data := ""
		if !fi.IsDir() {
			d, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			data = fmt.Sprintf("%x", d)
		}
		fmt.Fprintf(&b, "%s %v %d %.16s; ", rel, fi.Mode(), fi.Size(), data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSubcommands: passwords and ca print what the first run made, and say
// what to do when there is nothing.
func TestSubcommands(t *testing.T) {
	dir := t.TempDir()
	cmd := func(args ...string) (string, error) {
		var out, errb strings.Builder
		err := run(t.Context(), args, environ{stateDir: dir}, strings.NewReader(""), &out, &errb)
		return out.String() + errb.String(), err
	}
	if _, err := cmd("passwords"); err == nil || !strings.Contains(err.Error(), "first run") {
		t.Errorf("passwords before a first run: %v", err)
	}
	if _, err := cmd("ca"); err == nil || !strings.Contains(err.Error(), "no CA yet") {
		t.Errorf("ca before a first run: %v", err)
	}
	r := start(t, dir, "--tls-addr", "127.0.0.1:0")
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	out, err := cmd("passwords")
	if err != nil || !strings.Contains(out, "watch "+initialPassword(t, dir, "watch")) {
		t.Errorf("passwords = %q, %v", out, err)
	}
	out, err = cmd("ca")
	want, _ := os.ReadFile(filepath.Join(dir, "tls", "ca.crt"))
	if err != nil || out != string(want) {
		t.Errorf("ca = %q, %v; want the CA certificate", out, err)
	}
}
