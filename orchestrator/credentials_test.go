package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"collaborate/broker"
	"collaborate/internal/testkit"
)

func passwd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"passwd"}, args...), environ{}, strings.NewReader(stdin), &out, &errb)
	return out.String() + errb.String(), err
}

// TestPasswd: passwd creates the file, adds and replaces users, stores only
// bcrypt hashes, and refuses bad input.
func TestPasswd(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sub", "creds.yaml")
	steps := []struct {
		desc     string
		stdin    string
		args     []string
		wantErr  string
		user     string
		password string
		role     broker.Role
	}{
		{"creates the file", "s3cret-r1\n", []string{"--credentials", file, "--role", "robot", "r1"}, "", "r1", "s3cret-r1", broker.RoleRobot},
		{"adds an observer", "look-only\r\n", []string{"--credentials", file, "--role", "observer", "watch"}, "", "watch", "look-only", broker.RoleObserver},
		{"replaces a password", "new-r1", []string{"--credentials", file, "--role", "robot", "r1"}, "", "r1", "new-r1", broker.RoleRobot},
		{"operator role", "dash", []string{"--credentials", file, "--role", "operator", "alice"}, "", "alice", "dash", broker.RoleOperator},
		{"unknown role", "x\n", []string{"--credentials", file, "--role", "admin", "bob"}, "--role", "", "", ""},
		{"no name", "x\n", []string{"--credentials", file, "--role", "robot"}, "one user name", "", "", ""},
		{"no file", "x\n", []string{"--role", "robot", "r2"}, "--credentials", "", "", ""},
		{"empty password", "\n", []string{"--credentials", file, "--role", "robot", "r2"}, "empty password", "", "", ""},
		{"invalid robot id", "x\n", []string{"--credentials", file, "--role", "robot", "r/2"}, "robot id", "", "", ""},
	}
	for _, s := range steps {
		t.Run(s.desc, func(t *testing.T) {
			out, err := passwd(t, s.stdin, s.args...)
			if s.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), s.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q (%s)", err, s.wantErr, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("passwd: %v: %s", err, out)
			}
			creds, err := broker.LoadCredentials(file)
			if err != nil {
				t.Fatal(err)
			}
			u, ok := creds.Verify(s.user, []byte(s.password))
			if !ok || u.Role != s.role {
				t.Errorf("Verify(%s) = %+v, %v; want role %s", s.user, u, ok, s.role)
			}
			raw, _ := os.ReadFile(file)
			if strings.Contains(string(raw), s.password) {
				t.Errorf("the file contains the password in clear")
			}
			if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
				t.Errorf("file mode = %v, want 0600", fi.Mode().Perm())
			}
		})
	}
	creds, err := broker.LoadCredentials(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := creds.Verify("r1", []byte("s3cret-r1")); ok {
		t.Errorf("r1's old password still works")
	}
	if len(creds.Users) != 3 {
		t.Errorf("users = %+v, want r1, watch and alice", creds.Users)
	}
}

// TestBootstrap: the first run without credentials creates them with random
// passwords, written only to a 0600 file it names; later runs keep them.
func TestBootstrap(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	credsFile := filepath.Join(dir, "credentials.yaml")
	pwFile := filepath.Join(dir, initialPasswordsFile)
	if !strings.Contains(r.out.String(), pwFile) {
		t.Errorf("run did not say where the passwords are: %q", r.out.String())
	}
	for _, f := range []string{credsFile, pwFile} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", f, fi.Mode().Perm())
		}
	}
	creds, err := broker.LoadCredentials(credsFile)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(credsFile)
	for _, c := range []struct {
		user string
		role broker.Role
	}{{"orchestrator", broker.RoleOrchestrator}, {"watch", broker.RoleObserver}} {
		p := initialPassword(t, dir, c.user)
		if len(p) < 16 {
			t.Errorf("%s's password %q is short", c.user, p)
		}
		if u, ok := creds.Verify(c.user, []byte(p)); !ok || u.Role != c.role {
			t.Errorf("%s cannot log in with its initial password as %s", c.user, c.role)
		}
		if strings.Contains(string(raw), p) {
			t.Errorf("credentials file holds %s's password in clear", c.user)
		}
	}
	if initialPassword(t, dir, "orchestrator") == initialPassword(t, dir, "watch") {
		t.Errorf("both users got the same password")
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}

	r2 := start(t, dir)
	if strings.Contains(r2.out.String(), "first run: created") {
		t.Errorf("second run created credentials again")
	}
	again, _ := os.ReadFile(credsFile)
	if !bytes.Equal(raw, again) {
		t.Errorf("second run changed the credentials file")
	}
}

// TestFirstRunAccountsWhateverTheOrder: a user who added a robot before the
// first start (as the README's robot section suggests) still gets, from
// that first start, an account for the dashboard's controls and one to
// watch with, and is told where their passwords are. Both work: the
// controller logs in to the dashboard, the observer reads over MQTT.
func TestFirstRunAccountsWhateverTheOrder(t *testing.T) {
	dir := t.TempDir()
	if out, err := passwd(t, "r5-secret\n", "--credentials", filepath.Join(dir, "credentials.yaml"), "--role", "robot", "r5"); err != nil {
		t.Fatalf("passwd: %v: %s", err, out)
	}
	r := start(t, dir)
	pwFile := filepath.Join(dir, initialPasswordsFile)
	if !strings.Contains(r.out.String(), pwFile) {
		t.Fatalf("the first run did not say where the new passwords are:\n%s", r.out.String())
	}
	creds, err := broker.LoadCredentials(filepath.Join(dir, "credentials.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := creds.Verify("r5", []byte("r5-secret")); !ok {
		t.Errorf("the robot added before the first run lost its password")
	}
	if u, ok := creds.Verify("orchestrator", []byte(initialPassword(t, dir, "orchestrator"))); !ok || u.Role != broker.RoleOrchestrator {
		t.Errorf("no orchestrator account with the printed password: %+v %v", u, ok)
	}
	_, statuses := watchStatus(t, r.addrs["mqtt"], initialPassword(t, dir, "watch"))
	testkit.Eventually(t, wait, "the observer to read orchestrator/status", func() bool { return len(statuses()) > 0 })
}
