package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"collaborate/broker"
	"collaborate/internal/testkit"
	"collaborate/orchestrator/enroll"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// enrollCmd runs `orchestrator enroll` in-process; stdout is the bundle.
func enrollCmd(t *testing.T, env environ, args ...string) (bundle []byte, msgs string, err error) {
	t.Helper()
	var out bytes.Buffer
	var errb strings.Builder
	err = run(t.Context(), append([]string{"enroll"}, args...), env, strings.NewReader(""), &out, &errb)
	return out.Bytes(), errb.String(), err
}

// untar reads a bundle into a map of name → (mode, content).
func untar(t *testing.T, b []byte) map[string]tar.Header {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the bundle is not gzip: %v", err)
	}
	tr := tar.NewReader(gz)
	files := map[string]tar.Header{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		h.PAXRecords = map[string]string{"data": string(data)}
		files[h.Name] = *h
	}
	return files
}

// TestEnroll: enrolling robots while the orchestrator runs gives each an
// account it can log in with at once (over TLS, trusting the bundle's CA,
// dialling the host the bundle names), face markers no other robot
// carries, and a robot.yaml from the example with its values; enrolling
// again renews the password and keeps the markers; bad input is refused.
func TestEnroll(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir, "--tls-addr", "127.0.0.1:0")
	env := environ{stateDir: dir}
	tlsAddr := r.addrs["mqtt-tls"]

	type robot struct {
		password, ca string
		config       map[string]any
		mode         map[string]int64
	}
	get := func(id, broker string) robot {
		t.Helper()
		b, msgs, err := enrollCmd(t, env, id, "--broker", broker)
		if err != nil {
			t.Fatalf("enroll %s: %v\n%s", id, err, msgs)
		}
		files := untar(t, b)
		rb := robot{mode: map[string]int64{}}
		for _, name := range []string{"robot.yaml", "password", "ca.crt", "install-robot.sh", "robot.service"} {
			h, ok := files[id+"/"+name]
			if !ok {
				t.Fatalf("bundle lacks %s/%s: %v", id, name, files)
			}
			rb.mode[name] = h.Mode
		}
		rb.password = strings.TrimSpace(files[id+"/password"].PAXRecords["data"])
		rb.ca = files[id+"/ca.crt"].PAXRecords["data"]
		if err := yaml.Unmarshal([]byte(files[id+"/robot.yaml"].PAXRecords["data"]), &rb.config); err != nil {
			t.Fatalf("robot.yaml: %v", err)
		}
		if strings.Contains(msgs, rb.password) {
			t.Errorf("enroll printed the password: %s", msgs)
		}
		return rb
	}
	connect := func(id, password, ca, serverName string) error {
		caFile := filepath.Join(t.TempDir(), "ca.crt")
		if err := os.WriteFile(caFile, []byte(ca), 0o600); err != nil {
			t.Fatal(err)
		}
		o := paho.NewClientOptions().AddBroker("tls://" + tlsAddr).SetClientID(id).SetUsername(id).SetPassword(password).
			SetAutoReconnect(false).SetConnectRetry(false).SetTLSConfig(&tls.Config{RootCAs: caPool(t, caFile), ServerName: serverName})
		c := paho.NewClient(o)
		tok := c.Connect()
		if !tok.WaitTimeout(wait) {
			return io.ErrNoProgress
		}
		if tok.Error() == nil {
			c.Disconnect(50)
		}
		return tok.Error()
	}

	r1 := get("r1", "tls://10.20.30.40:8883")
	r2 := get("r2", "tls://10.20.30.40:8883")
	r7 := get("r7", "tls://laptop.example:8883")
	for id, rb := range map[string]robot{"r1": r1, "r2": r2, "r7": r7} {
		if rb.config["id"] != id || rb.config["password_file"] != "/etc/collaborate/password" || rb.config["tls_ca"] != "/etc/collaborate/ca.crt" {
			t.Errorf("%s robot.yaml: %v", id, rb.config)
		}
		if rb.mode["password"] != 0o600 || rb.mode["install-robot.sh"] != 0o755 {
			t.Errorf("%s bundle modes %v", id, rb.mode)
		}
	}
	if r1.config["face_base"] != 100 || r2.config["face_base"] != 104 || r7.config["face_base"] != 124 {
		t.Errorf("face bases r1 %v r2 %v r7 %v, want 100, 104, 124 (100+4(N-1), as the world places them)",
			r1.config["face_base"], r2.config["face_base"], r7.config["face_base"])
	}
	if r1.config["broker"] != "tls://10.20.30.40:8883" || r1.config["vision"] == nil {
		t.Errorf("r1 robot.yaml lost its broker or the example's other keys: %v", r1.config)
	}
	// The running orchestrator reloads its accounts, and serves a
	// certificate renewed for the hosts the robots dial.
	testkit.Eventually(t, wait, "r1 to log in with its bundle, dialling 10.20.30.40", func() bool { return connect("r1", r1.password, r1.ca, "10.20.30.40") == nil })
	testkit.Eventually(t, wait, "r7 to log in, dialling laptop.example", func() bool { return connect("r7", r7.password, r7.ca, "laptop.example") == nil })
	if err := connect("r1", "wrong", r1.ca, "10.20.30.40"); err == nil {
		t.Error("r1 logged in with a wrong password")
	}

	again := get("r1", "tls://10.20.30.40:8883")
	if again.config["face_base"] != 100 || again.password == r1.password {
		t.Errorf("enrolling r1 again: face_base %v (want 100), new password %v", again.config["face_base"], again.password != r1.password)
	}
	testkit.Eventually(t, wait, "r1's old password to stop working", func() bool { return connect("r1", r1.password, r1.ca, "127.0.0.1") != nil })
	if err := connect("r1", again.password, again.ca, "127.0.0.1"); err != nil {
		t.Errorf("r1's new password: %v", err)
	}
	reg, err := enroll.LoadRegistry(filepath.Join(dir, registryFile))
	if err != nil || len(reg.Robots) != 3 {
		t.Errorf("registry %+v, %v; want r1, r2, r7", reg, err)
	}

	t.Run("plain MQTT: no CA in the bundle", func(t *testing.T) {
		b, msgs, err := enrollCmd(t, env, "r3", "--broker", "tcp://10.20.30.40:1883")
		if err != nil {
			t.Fatalf("%v %s", err, msgs)
		}
		files := untar(t, b)
		if _, ok := files["r3/ca.crt"]; ok {
			t.Error("a plain MQTT bundle carries a CA")
		}
		var c map[string]any
		_ = yaml.Unmarshal([]byte(files["r3/robot.yaml"].PAXRecords["data"]), &c)
		if c["tls_ca"] != "" && c["tls_ca"] != nil {
			t.Errorf("tls_ca = %v, want empty", c["tls_ca"])
		}
	})
	t.Run("into a directory", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "r4")
		if _, msgs, err := enrollCmd(t, env, "r4", "--broker", "tls://10.20.30.40:8883", "--out", out); err != nil {
			t.Fatalf("%v %s", err, msgs)
		}
		fi, err := os.Stat(filepath.Join(out, "password"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("password file: %v %v", fi, err)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		conf := t.TempDir()
		if out, err := passwd(t, "mine\n", "--credentials", filepath.Join(conf, "credentials.yaml"), "--role", "robot", "r9"); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		for _, c := range []struct {
			desc string
			env  environ
			args []string
			want string
		}{
			{"no robot", env, []string{"--broker", "tls://a:8883"}, "which robot"},
			{"bad robot id", env, []string{"R/1", "--broker", "tls://a:8883"}, "robot id"},
			{"no broker", env, []string{"r5"}, "--broker is required"},
			{"http broker", env, []string{"r5", "--broker", "http://a:8080"}, "tls://"},
			{"no port", env, []string{"r5", "--broker", "tls://a"}, "SCHEME://HOST:PORT"},
			{"bad host", env, []string{"r5", "--broker", "tls://bad_host:8883"}, "not a DNS name"},
			{"a user that is not a robot", env, []string{"watch", "--broker", "tls://a:8883"}, "role observer"},
			{"a robot in the read-only config", environ{stateDir: dir, configDir: conf}, []string{"r9", "--broker", "tls://a:8883"}, "read-only"},
		} {
			t.Run(c.desc, func(t *testing.T) {
				_, msgs, err := enrollCmd(t, c.env, c.args...)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("enroll %v = %v (%s), want an error mentioning %q", c.args, err, msgs, c.want)
				}
			})
		}
		creds, _ := broker.LoadCredentials(filepath.Join(dir, "credentials.yaml"))
		if _, ok := creds.Lookup("r5"); ok {
			t.Error("a refused enrollment made an account")
		}
	})
}
