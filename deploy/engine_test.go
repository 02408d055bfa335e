package deploy_test

// A stand-in for the Docker engine, so that tests run `docker compose` on a
// machine that has none, as close to the real thing as a root process gets
// without one: the image is the Dockerfile's runtime stage assembled in a
// directory (its COPY lines, from a static build of the binaries as its
// build stage makes them), and a container is a process chrooted into a
// copy of it, as the image's USER with the service's group_add, with the
// image's ENV, the entrypoint and command of `docker-compose config`.
//
// Where it differs, and why:
//   - A bind mount is a copy made when the container starts, keeping owners
//     and modes (no mount namespace needed); a named volume is the
//     container's directory, kept by `down` and removed by `down -v`.
//   - Published ports: the container shares the host's network, so its
//     listen flags (--mqtt-addr=:1883, ...) are rewritten to
//     127.0.0.1:PUBLISHED, as `-p PUBLISHED:TARGET` makes them reachable.
//   - `up -d` returns once each service says "ready" (as `up --wait` would
//     with a health check), so that the next command finds it serving.
//
// The same code serves tests in-process (newEngine) and as the `docker`
// command that README commands call: the test binary, run under the name
// docker (see TestMain).

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"collaborate/internal/testkit"
)

// engine is the fake engine's state: engine/image (the image's root),
// engine/containers/SERVICE/{rootfs,log,pid}.
type engine struct {
	dir     string   // the engine's own directory
	project string   // where docker-compose.yml is
	env     []string // the environment of `docker compose`, for variable substitution
}

func newEngine(dir, project string, env []string) *engine {
	return &engine{dir: dir, project: project, env: env}
}

// service is the part of `docker-compose config` the engine runs.
type service struct {
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Image      string   `yaml:"image"`
	Profiles   []string `yaml:"profiles"`
	Command    []string `yaml:"command"`
	Entrypoint []string `yaml:"entrypoint"`
	GroupAdd   []string `yaml:"group_add"`
	Ports      []struct {
		Published int `yaml:"published"`
		Target    int `yaml:"target"`
	} `yaml:"ports"`
	Volumes []string `yaml:"volumes"`
}

type composeConfigOut struct {
	Services map[string]service `yaml:"services"`
}

func (e *engine) config(profiles []string) (composeConfigOut, error) {
	args := []string{"-f", filepath.Join(e.project, "docker-compose.yml")}
	for _, p := range profiles {
		args = append(args, "--profile", p)
	}
	cmd := exec.Command("docker-compose", append(args, "config")...)
	cmd.Dir, cmd.Env = e.project, e.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return composeConfigOut{}, fmt.Errorf("docker-compose config: %v\n%s", err, stderr.String())
	}
	var c composeConfigOut
	if err := yaml.Unmarshal(out, &c); err != nil {
		return c, fmt.Errorf("docker-compose config output: %w", err)
	}
	return c, nil
}

// image is the runtime stage of the Dockerfile.
type image struct {
	copies     [][3]string // from, to, chown ("" or "U:G")
	user       string
	env        []string
	entrypoint []string
	cmd        []string
	workdir    string
}

// parseDockerfile reads the instructions of the Dockerfile's last stage.
func parseDockerfile(path string) (image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return image{}, err
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	var img image
	var copies []string // of the last stage
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "FROM":
			img, copies = image{workdir: "/"}, nil
			if strings.Contains(rest, "distroless") && strings.Contains(rest, "nonroot") {
				img.workdir = "/home/nonroot"
			}
		case "COPY":
			copies = append(copies, rest)
		case "USER":
			img.user = rest
		case "WORKDIR":
			img.workdir = rest
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				if !strings.Contains(kv, "=") {
					return img, fmt.Errorf("Dockerfile: ENV %s: want KEY=VALUE", rest)
				}
				img.env = append(img.env, kv)
			}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &img.entrypoint); err != nil {
				return img, fmt.Errorf("Dockerfile: ENTRYPOINT must be a JSON array: %w", err)
			}
		case "CMD":
			if err := json.Unmarshal([]byte(rest), &img.cmd); err != nil {
				return img, fmt.Errorf("Dockerfile: CMD must be a JSON array: %w", err)
			}
		}
	}
	for _, rest := range copies {
		chown := ""
		var paths []string
		for _, a := range strings.Fields(rest) {
			switch {
			case strings.HasPrefix(a, "--chown="):
				chown = strings.TrimPrefix(a, "--chown=")
			case strings.HasPrefix(a, "--from="):
			default:
				paths = append(paths, a)
			}
		}
		if len(paths) != 2 {
			return img, fmt.Errorf("Dockerfile: COPY %s: the fake engine copies one source to one destination", rest)
		}
		img.copies = append(img.copies, [3]string{paths[0], paths[1], chown})
	}
	return img, nil
}

// staticBuild builds a main package as the Dockerfile's build stage does:
// no cgo, so that it runs on an image with no libc.
func staticBuild(project, pkg, out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -X main.version=dev", "-o", out, pkg)
	cmd.Dir = project
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return checkStatic(out)
}

// checkStatic refuses a binary that needs a dynamic loader.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked: it would not run on a distroless static image", path)
		}
	}
	return nil
}

// build assembles the image's root from the Dockerfile's runtime stage.
func (e *engine) build(s service) error {
	df := filepath.Join(e.project, s.Build.Context, s.Build.Dockerfile)
	if s.Build.Context == "" || filepath.IsAbs(s.Build.Context) {
		df = filepath.Join(s.Build.Context, s.Build.Dockerfile)
	}
	img, err := parseDockerfile(df)
	if err != nil {
		return err
	}
	root := filepath.Join(e.dir, "image", "rootfs")
	if err := os.RemoveAll(filepath.Join(e.dir, "image")); err != nil {
		return err
	}
	// distroless/static:nonroot: users root and nonroot, /tmp, a home.
	for _, d := range []struct {
		path string
		mode os.FileMode
		uid  int
	}{{"etc", 0o755, 0}, {"tmp", 0o1777, 0}, {"home/nonroot", 0o700, 65532}} {
		p := filepath.Join(root, d.path)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(p, d.mode); err != nil {
			return err
		}
		if err := os.Chown(p, d.uid, d.uid); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nnonroot:x:65532:\n"), 0o644); err != nil {
		return err
	}
	bin := filepath.Join(e.dir, "image", "build")
	for _, c := range img.copies {
		from, to, chown := c[0], c[1], c[2]
		dst := filepath.Join(root, to)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		switch {
		case from == "/out/orchestrator":
			if err := staticBuild(e.project, "./orchestrator", filepath.Join(bin, "orchestrator")); err != nil {
				return err
			}
			if err := copyFile(filepath.Join(bin, "orchestrator"), dst, 0o755); err != nil {
				return err
			}
		case strings.HasPrefix(from, "/src/"):
			if err := copyFile(filepath.Join(e.project, strings.TrimPrefix(from, "/src/")), dst, 0o644); err != nil {
				return err
			}
		case strings.HasPrefix(from, "/out/"): // the build stage's empty directories
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		default:
			return fmt.Errorf("Dockerfile: COPY %s: the fake engine knows no such build output", from)
		}
		if chown != "" {
			u, g, _ := strings.Cut(chown, ":")
			uid, err1 := strconv.Atoi(u)
			gid, err2 := strconv.Atoi(g)
			if err1 != nil || err2 != nil {
				return fmt.Errorf("Dockerfile: --chown=%s: want numeric ids", chown)
			}
			if err := os.Chown(dst, uid, gid); err != nil {
				return err
			}
		}
	}
	b, err := json.Marshal(img)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(e.dir, "image", "config.json"), b, 0o644)
}

func (img image) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"user": img.user, "env": img.env, "entrypoint": img.entrypoint, "cmd": img.cmd, "workdir": img.workdir})
}

func (e *engine) imageConfig() (image, error) {
	b, err := os.ReadFile(filepath.Join(e.dir, "image", "config.json"))
	if err != nil {
		return image{}, fmt.Errorf("no image: run docker compose build or up --build first (%w)", err)
	}
	var m struct {
		User       string   `json:"user"`
		Env        []string `json:"env"`
		Entrypoint []string `json:"entrypoint"`
		Cmd        []string `json:"cmd"`
		Workdir    string   `json:"workdir"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return image{}, err
	}
	return image{user: m.User, env: m.Env, entrypoint: m.Entrypoint, cmd: m.Cmd, workdir: m.Workdir}, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}

func (e *engine) containerDir(name string) string { return filepath.Join(e.dir, "containers", name) }

// create makes (or makes again, from a newer image) a service's container
// root, keeping its named volumes, and copies its bind mounts in.
func (e *engine) create(name string, s service) (string, error) {
	cdir := e.containerDir(name)
	root := filepath.Join(cdir, "rootfs")
	keep := filepath.Join(cdir, "volumes")
	if err := os.MkdirAll(keep, 0o700); err != nil {
		return "", err
	}
	var named [][2]string // volume name, path in the container
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 {
			return "", fmt.Errorf("volume %q: want SOURCE:TARGET[:MODE]", v)
		}
		if !filepath.IsAbs(parts[0]) {
			named = append(named, [2]string{parts[0], parts[1]})
		}
	}
	// A named volume outlives the container: set it aside.
	for _, n := range named {
		if _, err := os.Stat(filepath.Join(root, n[1])); err == nil {
			if err := os.Rename(filepath.Join(root, n[1]), filepath.Join(keep, n[0])); err != nil {
				return "", err
			}
		}
	}
	if err := os.RemoveAll(root); err != nil {
		return "", err
	}
	if out, err := exec.Command("cp", "-a", filepath.Join(e.dir, "image", "rootfs"), root).CombinedOutput(); err != nil {
		return "", fmt.Errorf("cp image: %v %s", err, out)
	}
	for _, n := range named {
		if _, err := os.Stat(filepath.Join(keep, n[0])); err == nil {
			// The volume's content replaces the image's (the first start
			// copied the image's into it).
			if err := os.RemoveAll(filepath.Join(root, n[1])); err != nil {
				return "", err
			}
			if err := os.Rename(filepath.Join(keep, n[0]), filepath.Join(root, n[1])); err != nil {
				return "", err
			}
		}
	}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if !filepath.IsAbs(parts[0]) {
			continue
		}
		dst := filepath.Join(root, parts[1])
		if err := os.RemoveAll(dst); err != nil {
			return "", err
		}
		if out, err := exec.Command("cp", "-a", parts[0], dst).CombinedOutput(); err != nil {
			return "", fmt.Errorf("bind %s: %v %s", v, err, out)
		}
	}
	return root, nil
}

var listenFlag = regexp.MustCompile(`^(--(?:mqtt|http|tls|ws)-addr)(=|$)(.*)$`)

// publish rewrites the command's listen addresses: TARGET ports become
// 127.0.0.1:PUBLISHED.
func publish(args []string, s service) []string {
	ports := map[string]int{}
	for _, p := range s.Ports {
		ports[strconv.Itoa(p.Target)] = p.Published
	}
	out := slices.Clone(args)
	for i := 0; i < len(out); i++ {
		m := listenFlag.FindStringSubmatch(out[i])
		if m == nil {
			continue
		}
		val, at := m[3], i
		if m[2] == "" && i+1 < len(out) {
			val, at = out[i+1], i+1
		}
		if val == "" {
			continue
		}
		_, port, _ := strings.Cut(val, ":")
		if pub, ok := ports[port]; ok {
			addr := "127.0.0.1:" + strconv.Itoa(pub)
			if at == i {
				out[i] = m[1] + "=" + addr
			} else {
				out[at] = addr
			}
		}
	}
	return out
}

// proc builds a container process: chrooted, as the image's user with the
// service's extra groups, the image's environment.
func (e *engine) proc(root string, img image, s service, argv []string) (*exec.Cmd, error) {
	uid, gid := 0, 0
	if img.user != "" {
		u, g, _ := strings.Cut(img.user, ":")
		var err1, err2 error
		uid, err1 = strconv.Atoi(u)
		gid, err2 = strconv.Atoi(g)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("USER %s: the fake engine wants numeric uid:gid", img.user)
		}
	}
	var groups []uint32
	for _, g := range s.GroupAdd {
		n, err := strconv.Atoi(g)
		if err != nil {
			return nil, fmt.Errorf("group_add %q: want a number", g)
		}
		groups = append(groups, uint32(n))
	}
	path := argv[0]
	if !strings.Contains(path, "/") {
		for _, d := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
			if fi, err := os.Stat(filepath.Join(root, d, path)); err == nil && !fi.IsDir() {
				path = d + "/" + path
				break
			}
		}
	}
	if _, err := os.Stat(filepath.Join(root, path)); err != nil {
		return nil, fmt.Errorf("exec: %q: executable file not found in the container", argv[0])
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/home/nonroot"}, img.env...)
	cmd.Dir = img.workdir
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}}
	return cmd, nil
}

// up starts the services (all without a profile, plus those of profiles),
// building the image when asked or when there is none, and waits until
// each says "ready" or exits.
func (e *engine) up(profiles []string, build bool, only []string, stdout io.Writer) error {
	c, err := e.config(profiles)
	if err != nil {
		return err
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range c.Services {
			if !yield(n) {
				return
			}
		}
	})
	for _, name := range names {
		s := c.Services[name]
		if len(only) > 0 && !slices.Contains(only, name) {
			continue
		}
		if len(s.Profiles) > 0 && !slices.ContainsFunc(s.Profiles, func(p string) bool { return slices.Contains(profiles, p) }) {
			continue
		}
		if !build && e.pid(name) != 0 {
			fmt.Fprintf(stdout, "%s is up to date\n", name) // as compose leaves a running, unchanged service
			continue
		}
		if _, err := os.Stat(filepath.Join(e.dir, "image", "config.json")); build || err != nil {
			if s.Build == nil {
				return fmt.Errorf("service %s has no build and no image here", name)
			}
			fmt.Fprintf(stdout, "building %s (%s)\n", s.Image, s.Build.Dockerfile)
			if err := e.build(s); err != nil {
				return err
			}
		}
		e.stop(name)
		if err := e.start(name, s, stdout); err != nil {
			return err
		}
	}
	return nil
}

func (e *engine) start(name string, s service, stdout io.Writer) error {
	img, err := e.imageConfig()
	if err != nil {
		return err
	}
	root, err := e.create(name, s)
	if err != nil {
		return err
	}
	entry, cmdline := img.entrypoint, img.cmd
	if len(s.Entrypoint) > 0 {
		entry, cmdline = s.Entrypoint, nil
	}
	if len(s.Command) > 0 {
		cmdline = s.Command
	}
	cmd, err := e.proc(root, img, s, publish(append(slices.Clone(entry), cmdline...), s))
	if err != nil {
		return err
	}
	logPath := filepath.Join(e.containerDir(name), "log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr.Setsid = true // outlives `docker compose up -d`
	offset, _ := log.Seek(0, io.SeekEnd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	pid := cmd.Process.Pid
	if err := os.WriteFile(filepath.Join(e.containerDir(name), "pid"), []byte(strconv.Itoa(pid)), 0o600); err != nil {
		return err
	}
	if b, err := yaml.Marshal(s); err == nil {
		_ = os.WriteFile(filepath.Join(e.containerDir(name), "service.yaml"), b, 0o600)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fmt.Fprintf(stdout, "started %s (pid %d)\n", name, pid)
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(logPath)
		if int64(len(b)) > offset && strings.Contains("\n"+string(b[offset:]), "\nready\n") {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("%s exited: %v\n%s", name, err, testkit.Tail(string(b[min(offset, int64(len(b))):]), 30))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within 60 s:\n%s", name, testkit.Tail(string(b), 30))
		}
		time.Sleep(20 * time.Millisecond) // polling the log, not synchronisation
	}
}

// pid is the service's process, 0 when it does not run.
func (e *engine) pid(name string) int {
	b, err := os.ReadFile(filepath.Join(e.containerDir(name), "pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(string(b))
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return 0
	}
	// A zombie counts as gone.
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if f := strings.Fields(string(st)); len(f) > 2 && f[2] == "Z" {
			return 0
		}
	}
	return pid
}

// stop sends SIGTERM to the service's process (docker stop), then SIGKILL
// after 10 s.
func (e *engine) stop(name string) {
	pid := e.pid(name)
	if pid == 0 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 1000 && e.pid(name) != 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if e.pid(name) != 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	os.Remove(filepath.Join(e.containerDir(name), "pid"))
}

// down stops every service; with volumes it also removes the containers'
// state.
func (e *engine) down(volumes bool) {
	entries, _ := os.ReadDir(filepath.Join(e.dir, "containers"))
	for _, d := range entries {
		e.stop(d.Name())
		if volumes {
			os.RemoveAll(e.containerDir(d.Name()))
		}
	}
}

// exec runs a command in a running service's container, as docker compose
// exec does: the image's user, no entrypoint.
func (e *engine) exec(name string, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if e.pid(name) == 0 {
		return 1, fmt.Errorf("service %q is not running", name)
	}
	var s service
	b, err := os.ReadFile(filepath.Join(e.containerDir(name), "service.yaml"))
	if err == nil {
		err = yaml.Unmarshal(b, &s)
	}
	if err != nil {
		return 1, fmt.Errorf("service %s: %w", name, err)
	}
	img, err := e.imageConfig()
	if err != nil {
		return 1, err
	}
	cmd, err := e.proc(filepath.Join(e.containerDir(name), "rootfs"), img, s, argv)
	if err != nil {
		return 126, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 126, err
	}
	return 0, nil
}

func (e *engine) logs(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(e.containerDir(name), "log"))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("no such service: %s", name)
	}
	return string(b), err
}

// fakeDocker is the `docker` command: `docker compose [--profile P]
// up|logs|exec|down|build ...`, run in the project's directory with
// FAKE_DOCKER_ENGINE naming the engine's directory.
func fakeDocker(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "docker (test engine): "+format+"\n", a...)
		return 1
	}
	dir := os.Getenv("FAKE_DOCKER_ENGINE")
	if dir == "" {
		return fail("FAKE_DOCKER_ENGINE is not set")
	}
	if len(args) == 0 || args[0] != "compose" {
		return fail("only `docker compose ...` is emulated, not %q", args)
	}
	project, _ := os.Getwd()
	e := newEngine(dir, project, os.Environ())
	args = args[1:]
	var profiles []string
	for len(args) >= 2 && args[0] == "--profile" {
		profiles, args = append(profiles, args[1]), args[2:]
	}
	if len(args) == 0 {
		return fail("docker compose: no command")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "up", "build":
		build, detached := cmd == "build", false
		var only []string
		for _, a := range rest {
			switch a {
			case "-d", "--detach":
				detached = true
			case "--build":
				build = true
			default:
				if strings.HasPrefix(a, "-") {
					return fail("docker compose %s: option %s is not emulated", cmd, a)
				}
				only = append(only, a)
			}
		}
		if cmd == "up" && !detached {
			return fail("docker compose up: only -d is emulated (a test cannot wait on the foreground)")
		}
		if cmd == "build" {
			c, err := e.config(profiles)
			if err != nil {
				return fail("%v", err)
			}
			for _, s := range c.Services {
				if s.Build != nil {
					if err := e.build(s); err != nil {
						return fail("%v", err)
					}
					return 0 // one image serves every service
				}
			}
			return fail("no service to build")
		}
		if err := e.up(profiles, build, only, stdout); err != nil {
			return fail("%v", err)
		}
		return 0
	case "logs":
		var names []string
		for _, a := range rest {
			if !strings.HasPrefix(a, "-") {
				names = append(names, a)
			}
		}
		if len(names) != 1 {
			return fail("docker compose logs: name one service")
		}
		l, err := e.logs(names[0])
		if err != nil {
			return fail("%v", err)
		}
		sc := bufio.NewScanner(strings.NewReader(l))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			fmt.Fprintf(stdout, "%s  | %s\n", names[0], sc.Text())
		}
		return 0
	case "exec":
		for len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
			if rest[0] != "-T" {
				return fail("docker compose exec: option %s is not emulated", rest[0])
			}
			rest = rest[1:]
		}
		if len(rest) < 2 {
			return fail("docker compose exec SERVICE COMMAND...")
		}
		code, err := e.exec(rest[0], rest[1:], stdin, stdout, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "docker (test engine): %v\n", err)
		}
		return code
	case "down":
		e.down(slices.Contains(rest, "-v") || slices.Contains(rest, "--volumes"))
		return 0
	}
	return fail("docker compose %s is not emulated", cmd)
}
