package deploy_test

// A Raspberry Pi for tests: a root directory with Raspberry Pi OS's users
// and groups (gpio, video) and the robot binary installed, as after the
// README's "Setting up a Raspberry Pi robot" steps 1-4; install-robot.sh
// installs into it with --root, and bootRobot starts the unit it enabled
// as systemd would: chrooted into the Pi's root, as the unit's User with
// its groups, its WorkingDirectory, its ExecStart. The Pi's hardware is a
// body in a `robot world`: --hw pi becomes --hw sitl --world ADDR.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// newPi makes a Pi's root directory with robot (a static robot binary)
// installed in /usr/local/bin.
func newPi(dir, robot string) error {
	files := map[string]string{
		"etc/passwd":  "root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000:,,,:/home/pi:/bin/bash\n",
		"etc/group":   "root:x:0:\nvideo:x:44:pi\ngpio:x:997:pi\npi:x:1000:\n",
		"etc/shadow":  "root:*:19000:0:99999:7:::\npi:*:19000:0:99999:7:::\n",
		"etc/gshadow": "root:*::\nvideo:!::pi\ngpio:!::pi\npi:!::\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	for _, d := range []string{"home/pi", "tmp", "usr/local/bin", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	return copyFile(robot, filepath.Join(dir, "usr/local/bin/robot"), 0o755)
}

// unit is the part of a systemd unit that bootRobot runs.
type unit struct {
	execStart  []string
	user       string
	groups     []string
	workingDir string
	env        []string
}

func parseUnit(path string) (unit, error) {
	f, err := os.Open(path)
	if err != nil {
		return unit{}, err
	}
	defer f.Close()
	var u unit
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		switch k {
		case "ExecStart":
			u.execStart = strings.Fields(v)
		case "User":
			u.user = v
		case "SupplementaryGroups":
			u.groups = strings.Fields(v)
		case "WorkingDirectory":
			u.workingDir = v
		case "Environment":
			u.env = append(u.env, v)
		}
	}
	if len(u.execStart) == 0 || u.user == "" {
		return u, fmt.Errorf("%s: no ExecStart or User", path)
	}
	return u, sc.Err()
}

// lookupID finds a name's id (and, for a user, its primary group) in a
// passwd or group file.
func lookupID(file, name string) (id, gid int, err error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) >= 3 && f[0] == name {
			id, _ = strconv.Atoi(f[2])
			if len(f) >= 4 {
				gid, _ = strconv.Atoi(f[3])
			}
			return id, gid, nil
		}
	}
	return 0, 0, fmt.Errorf("%s: no %s", file, name)
}

// bootRobot starts the robot unit enabled in the Pi's root (a
// multi-user.target.wants link), logging to root/var/log/robot.log; it
// returns at once. The process outlives its caller (it may be a shim), so
// its pid goes to root/run/robot.pid.
func bootRobot(root, world string) (int, error) {
	link := filepath.Join(root, "etc/systemd/system/multi-user.target.wants/robot.service")
	target, err := os.Readlink(link)
	if err != nil {
		return 0, fmt.Errorf("the robot unit is not enabled: %w", err)
	}
	if filepath.IsAbs(target) {
		target = filepath.Join(root, target)
	} else {
		target = filepath.Join(filepath.Dir(link), target)
	}
	u, err := parseUnit(target)
	if err != nil {
		return 0, err
	}
	uid, gid, err := lookupID(filepath.Join(root, "etc/passwd"), u.user)
	if err != nil {
		return 0, err
	}
	var groups []uint32
	for _, g := range u.groups {
		id, _, err := lookupID(filepath.Join(root, "etc/group"), g)
		if err != nil {
			return 0, fmt.Errorf("SupplementaryGroups: %w", err)
		}
		groups = append(groups, uint32(id))
	}
	var args []string
	for i := 1; i < len(u.execStart); i++ {
		if u.execStart[i] == "--hw" && i+1 < len(u.execStart) && u.execStart[i+1] == "pi" {
			args = append(args, "--hw", "sitl", "--world", world)
			i++
			continue
		}
		args = append(args, u.execStart[i])
	}
	if err := os.MkdirAll(filepath.Join(root, "var/log"), 0o755); err != nil {
		return 0, err
	}
	log, err := os.OpenFile(filepath.Join(root, "var/log/robot.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer log.Close()
	cmd := exec.Command(u.execStart[0], args...)
	cmd.Dir = u.workingDir
	cmd.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin"}, u.env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Setsid: true,
		Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %v: %w", u.execStart, err)
	}
	pid := cmd.Process.Pid
	go func() { _ = cmd.Wait() }()
	if err := os.WriteFile(filepath.Join(root, "run/robot.pid"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return pid, err
	}
	return pid, nil
}

// stopRobot stops a robot bootRobot started, by its pid file.
func stopRobot(root string) {
	b, err := os.ReadFile(filepath.Join(root, "run/robot.pid"))
	if err != nil {
		return
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid <= 0 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 500 && syscall.Kill(pid, 0) == nil; i++ {
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err != nil || strings.Fields(string(st))[2] == "Z" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	os.Remove(filepath.Join(root, "run/robot.pid"))
}
