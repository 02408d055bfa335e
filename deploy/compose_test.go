package deploy_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"collaborate/broker"
	"collaborate/internal/testkit"
	"collaborate/orchestrator/certs"
)

func TestMain(m *testing.M) {
	// Under the name docker, this test binary is the fake engine's
	// command, for the README's commands (see engine_test.go).
	switch filepath.Base(os.Args[0]) {
	case "docker":
		os.Exit(fakeDocker(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	case "pi-boot":
		// The README test's Pi starts the robot unit install-robot.sh
		// enabled, unless it runs (see pi_test.go).
		root := os.Getenv("PI_ROOT")
		if b, err := os.ReadFile(filepath.Join(root, "run/robot.pid")); err == nil {
			if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 && syscall.Kill(pid, 0) == nil {
				os.Exit(0)
			}
		}
		if _, err := bootRobot(root, os.Getenv("PI_WORLD")); err != nil {
			fmt.Fprintln(os.Stderr, "pi-boot:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// needRoot skips a test that runs processes as other users in a chroot,
// as a container engine does; CI runs as root.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if testkit.RequireTools() {
			t.Fatal("this test runs the image's user in a chroot: it needs root (COLLABORATE_REQUIRE_TOOLS=1)")
		}
		t.Skip("needs root: it runs the image's user (uid 65532) in a chroot, as a container engine does")
	}
	testkit.RequireTool(t, "docker-compose", "docker-compose")
}

// freshClone copies the repository's tracked files, as `git clone` would
// make them (with this working tree's content), into a new directory:
// deploy/config holds its .gitignore and nothing else.
func freshClone(t *testing.T) string {
	t.Helper()
	git := testkit.RequireTool(t, "git", "git")
	root, err := testkit.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(git, "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): a fresh clone is made from the tracked files", err)
	}
	dst := filepath.Join(t.TempDir(), "collaborate")
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, f)
		fi, err := os.Lstat(src)
		if err != nil {
			continue // deleted in the working tree
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(src, filepath.Join(dst, f), fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// composeEnv is the environment of `docker compose`: host ports chosen at
// run time for the three published ports.
type composeEnv struct {
	mqtt, tls, http int
	vars            []string
}

func newComposeEnv(t *testing.T, extra ...string) composeEnv {
	t.Helper()
	c := composeEnv{mqtt: testkit.FreePort(t), tls: testkit.FreePort(t), http: testkit.FreePort(t)}
	c.vars = append(os.Environ(), fmt.Sprintf("MQTT_PORT=%d", c.mqtt), fmt.Sprintf("TLS_PORT=%d", c.tls),
		fmt.Sprintf("HTTP_PORT=%d", c.http))
	c.vars = append(c.vars, extra...)
	return c
}

// startEngine makes an engine for project, stopped when the test ends.
func startEngine(t *testing.T, project string, env []string) *engine {
	t.Helper()
	e := newEngine(t.TempDir(), project, env)
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range []string{"orchestrator", "sim"} {
				if l, err := e.logs(s); err == nil {
					t.Logf("docker compose logs %s:\n%s", s, testkit.Tail(l, 40))
				}
			}
		}
		e.down(true)
	})
	return e
}

func execOut(t *testing.T, e *engine, stdin string, argv ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code, err := e.exec("orchestrator", argv, strings.NewReader(stdin), &out, &out)
	if err != nil {
		t.Fatalf("docker compose exec orchestrator %v: %v", argv, err)
	}
	return out.String(), code
}

func passwordOf(t *testing.T, passwords, user string) string {
	t.Helper()
	for _, l := range strings.Split(passwords, "\n") {
		if u, p, ok := strings.Cut(l, " "); ok && u == user {
			return p
		}
	}
	t.Fatalf("no password for %s in:\n%s", user, passwords)
	return ""
}

func httpsClient(t *testing.T, caPEM []byte, serverName string) *http.Client {
	t.Helper()
	f := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(f, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	pool, err := certs.Pool(f)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: serverName}}}
}

func httpDo(t *testing.T, c *http.Client, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestComposeFreshClone: on a fresh clone, `docker compose up -d --build`
// starts with no step before it. The container's user (uid 65532, a
// read-only /config, an empty /state, the compose file's own command line)
// makes its accounts and TLS material in /state, says where the passwords
// are and how to read them, and never writes a secret to /config or its
// logs. Its accounts then work: the dashboard over HTTPS, the observer over
// MQTT with TLS (mosquitto_sub). A restart keeps everything.
func TestComposeFreshClone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the image")
	}
	needRoot(t)
	project := freshClone(t)
	env := newComposeEnv(t)
	e := startEngine(t, project, env.vars)
	var out bytes.Buffer
	if err := e.up(nil, true, nil, &out); err != nil {
		t.Fatalf("docker compose up -d --build: %v\n%s", err, out.String())
	}
	pid := e.pid("orchestrator")
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if !strings.Contains(string(status), "\nUid:\t65532\t65532\t65532\t65532\n") {
		t.Errorf("the orchestrator does not run as uid 65532:\n%s", status)
	}
	logs, _ := e.logs("orchestrator")
	for _, want := range []string{
		"first run: created orchestrator (role orchestrator", "watch (role observer",
		"their passwords are in /state/initial-passwords.txt",
		"docker compose exec orchestrator orchestrator passwords",
		"tls: made a private CA, /state/tls/ca.crt",
		"mqtt-tls listening on", "dashboard: https://",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("docker compose logs lack %q:\n%s", want, logs)
		}
	}

	passwords, code := execOut(t, e, "", "orchestrator", "passwords")
	if code != 0 {
		t.Fatalf("docker compose exec orchestrator orchestrator passwords: exit %d\n%s", code, passwords)
	}
	orchPW, watchPW := passwordOf(t, passwords, "orchestrator"), passwordOf(t, passwords, "watch")
	for _, p := range []string{orchPW, watchPW} {
		if strings.Contains(logs, p) {
			t.Error("a password is in the logs")
		}
	}
	root := filepath.Join(e.containerDir("orchestrator"), "rootfs")
	if entries, _ := os.ReadDir(filepath.Join(root, "config")); len(entries) != 1 || entries[0].Name() != ".gitignore" {
		t.Errorf("/config holds %v, want only the clone's .gitignore", entries)
	}
	if out, code := execOut(t, e, "x\n", "orchestrator", "passwd", "--credentials", "/config/credentials.yaml", "--role", "robot", "r9"); code == 0 || !strings.Contains(out, "permission denied") {
		t.Errorf("the container's user could write to /config: exit %d\n%s", code, out)
	}
	for _, f := range []string{"credentials.yaml", "initial-passwords.txt", "tls/ca.key", "tls/server.key"} {
		fi, err := os.Stat(filepath.Join(root, "state", f))
		if err != nil {
			t.Errorf("/state/%s: %v", f, err)
			continue
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65532 || fi.Mode().Perm() != 0o600 {
			t.Errorf("/state/%s: owner %d mode %o, want 65532 and 0600", f, st.Uid, fi.Mode().Perm())
		}
	}

	ca, code := execOut(t, e, "", "orchestrator", "ca")
	if code != 0 || !strings.HasPrefix(ca, "-----BEGIN CERTIFICATE-----") {
		t.Fatalf("orchestrator ca: exit %d\n%s", code, ca)
	}
	base := fmt.Sprintf("https://127.0.0.1:%d", env.http)
	c := httpsClient(t, []byte(ca), "localhost")
	if st, body := httpDo(t, c, "GET", base+"/healthz", ""); st != 200 {
		t.Errorf("/healthz over HTTPS: %d %s", st, body)
	}
	if st, _ := httpDo(t, c, "GET", base+"/api/fleet", ""); st != 401 {
		t.Errorf("GET /api/fleet without a login: %d, want 401", st)
	}
	if st, body := httpDo(t, c, "POST", base+"/login", fmt.Sprintf(`{"user":"orchestrator","password":%q}`, orchPW)); st != 200 {
		t.Fatalf("dashboard login as orchestrator: %d %s", st, body)
	}
	if st, body := httpDo(t, c, "POST", base+"/api/fleet/stop", ""); st != 200 {
		t.Errorf("a control as orchestrator: %d %s", st, body)
	}
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, []byte(ca), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := testkit.RequireTool(t, "mosquitto_sub", "mosquitto-clients")
	watch := func() string {
		out, err := exec.Command(sub, "-h", "localhost", "-p", strconv.Itoa(env.tls), "--cafile", caFile, "-u", "watch", "-P", watchPW,
			"-t", "orchestrator/status", "-C", "1", "-W", "10").CombinedOutput()
		if err != nil {
			t.Errorf("mosquitto_sub over TLS as watch: %v\n%s", err, out)
		}
		return string(out)
	}
	if got := watch(); !strings.Contains(got, `"online"`) {
		t.Errorf("orchestrator/status = %s, want online", got)
	}

	t.Run("a restart keeps the accounts and the CA", func(t *testing.T) {
		sum := func() [32]byte { b, _ := os.ReadFile(filepath.Join(root, "state/tls/ca.crt")); return sha256.Sum256(b) }
		before := sum()
		e.down(false)
		if err := e.up(nil, false, nil, io.Discard); err != nil {
			t.Fatalf("docker compose up -d again: %v", err)
		}
		logs, _ := e.logs("orchestrator")
		if n := strings.Count(logs, "first run: created"); n != 1 {
			t.Errorf("%d first runs in the logs, want 1", n)
		}
		if sum() != before {
			t.Error("the CA changed across a restart: every robot would need a new ca.crt")
		}
		if got := watch(); !strings.Contains(got, `"online"`) {
			t.Errorf("after the restart, orchestrator/status = %s", got)
		}
	})
}

// TestComposeYourConfigWins: credentials and a certificate the user puts
// in deploy/config (the certificate from deploy/mkcerts.sh) are what the
// container serves; it reads them as a member of COLLAB_GID, and with the
// wrong group it stops with an error that says what to do.
func TestComposeYourConfigWins(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the image")
	}
	needRoot(t)
	testkit.RequireTool(t, "openssl", "openssl")
	project := freshClone(t)
	conf := filepath.Join(project, "deploy", "config")
	var creds broker.Credentials
	if err := creds.SetPassword("alice", broker.RoleOperator, []byte("alice-secret-pw")); err != nil {
		t.Fatal(err)
	}
	if err := creds.Save(filepath.Join(conf, "credentials.yaml")); err != nil {
		t.Fatal(err)
	}
	run(t, filepath.Join(project, "deploy"), "bash", "mkcerts.sh", "--host", "laptop", "--ip", "127.0.0.1")
	const gid = 4321
	for _, f := range []string{"credentials.yaml", "tls/server.key"} {
		p := filepath.Join(conf, f)
		if err := os.Chown(p, 0, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{conf, filepath.Join(conf, "tls")} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mine, err := os.ReadFile(filepath.Join(conf, "tls", "server.crt"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the wrong group", func(t *testing.T) {
		env := newComposeEnv(t, "COLLAB_GID=1111")
		e := startEngine(t, project, env.vars)
		err := e.up(nil, true, nil, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "permission denied") || !strings.Contains(err.Error(), "COLLAB_GID") {
			t.Fatalf("up with the wrong COLLAB_GID = %v, want an exit saying permission denied and COLLAB_GID", err)
		}
	})

	env := newComposeEnv(t, fmt.Sprintf("COLLAB_GID=%d", gid))
	e := startEngine(t, project, env.vars)
	if err := e.up(nil, true, nil, io.Discard); err != nil {
		t.Fatalf("docker compose up -d --build: %v", err)
	}
	logs, _ := e.logs("orchestrator")
	if !strings.Contains(logs, "tls: serving /config/tls/server.crt (given); robots trust /config/tls/ca.crt") {
		t.Errorf("logs do not say the given certificate is served:\n%s", logs)
	}
	if strings.Contains(logs, "created orchestrator") || !strings.Contains(logs, "created watch") {
		t.Errorf("with an operator given, only an observer should be made:\n%s", logs)
	}
	ca, _ := os.ReadFile(filepath.Join(conf, "tls", "ca.crt"))
	c := httpsClient(t, ca, "laptop")
	base := fmt.Sprintf("https://127.0.0.1:%d", env.http)
	if st, body := httpDo(t, c, "POST", base+"/login", `{"user":"alice","password":"alice-secret-pw"}`); st != 200 {
		t.Fatalf("your operator's login: %d %s", st, body)
	}
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", env.tls), &tls.Config{ServerName: "laptop", RootCAs: c.Transport.(*http.Transport).TLSClientConfig.RootCAs})
	if err != nil {
		t.Fatalf("MQTT over TLS with your CA: %v", err)
	}
	served := conn.ConnectionState().PeerCertificates[0].Raw
	conn.Close()
	if !bytes.Equal(pemBody(mine), served) {
		t.Error("the broker serves another certificate than deploy/config/tls/server.crt")
	}
	if _, err := os.Stat(filepath.Join(e.containerDir("orchestrator"), "rootfs/state/tls")); err == nil {
		t.Error("the orchestrator made its own TLS files although yours are there")
	}
}

// pemBody decodes the first PEM block.
func pemBody(b []byte) []byte {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil
	}
	return blk.Bytes
}
