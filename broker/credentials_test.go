package broker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCredentialsRoundTrip: users saved to a file load back, verify only
// with their own password, and the file holds no password.
func TestCredentialsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds.yaml")
	c := testCreds(t)
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	cases := []struct {
		desc     string
		user     string
		password string
		ok       bool
		role     Role
	}{
		{"robot", "r1", pw("r1"), true, RoleRobot},
		{"observer", "watch", pw("watch"), true, RoleObserver},
		{"operator", "op", pw("op"), true, RoleOperator},
		{"orchestrator", "orch", pw("orch"), true, RoleOrchestrator},
		{"another user's password", "r1", pw("r2"), false, ""},
		{"unknown user", "r9", pw("r9"), false, ""},
		{"empty password", "r1", "", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			u, ok := loaded.Verify(tc.user, []byte(tc.password))
			if ok != tc.ok || (ok && u.Role != tc.role) {
				t.Errorf("Verify(%s) = %+v, %v; want ok=%v role %s", tc.user, u, ok, tc.ok, tc.role)
			}
			if tc.password != "" && strings.Contains(string(raw), tc.password) {
				t.Errorf("file contains the password %q", tc.password)
			}
		})
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
}

// TestLoadCredentialsRejects: a broken file is refused with a reason.
func TestLoadCredentialsRejects(t *testing.T) {
	hash := testCreds(t).Users[0].Hash
	cases := []struct {
		desc, yaml, want string
	}{
		{"not YAML", "users: [", "yaml"},
		{"unknown role", "users:\n- {name: a, role: admin, hash: '" + hash + "'}\n", "unknown role"},
		{"bad robot id", "users:\n- {name: 'r 1', role: robot, hash: '" + hash + "'}\n", "robot id"},
		{"not a bcrypt hash", "users:\n- {name: a, role: observer, hash: secret}\n", "bcrypt"},
		{"duplicate", "users:\n- {name: a, role: observer, hash: '" + hash + "'}\n- {name: a, role: robot, hash: '" + hash + "'}\n", "twice"},
		{"reserved name", "users:\n- {name: inline, role: observer, hash: '" + hash + "'}\n", "reserved"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "creds.yaml")
			if err := os.WriteFile(path, []byte(c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadCredentials(path)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("LoadCredentials = %v, want an error mentioning %q", err, c.want)
			}
		})
	}
}

// TestRobotMayRead is the robot's read ACL, on topics and filters.
func TestRobotMayRead(t *testing.T) {
	cases := []struct {
		topic string
		ok    bool
	}{
		{"robots/r1/cmd", true},
		{"fleet/#", true},
		{"fleet/map", true},
		{"fleet/cmd", true},
		{"orchestrator/status", true},
		{"robots/r2/cmd", false},
		{"robots/+/cmd", false},
		{"robots/r1/#", false},
		{"robots/r1/pose", false},
		{"#", false},
		{"$SYS/#", false},
		{"fleet", false},
	}
	for _, c := range cases {
		t.Run(c.topic, func(t *testing.T) {
			if got := robotMayRead("r1", c.topic); got != c.ok {
				t.Errorf("robotMayRead(r1, %q) = %v, want %v", c.topic, got, c.ok)
			}
		})
	}
}
