package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-isatty"

	"collaborate/broker"
	"collaborate/deploy"
	"collaborate/orchestrator/certs"
	"collaborate/orchestrator/enroll"
	"collaborate/topics"
)

// registryFile records the enrolled robots' face markers, in the state.
const registryFile = "robots.yaml"

// Where an enrolled robot's files go on the Pi (install-robot.sh puts them
// there; the unit reads /etc/collaborate/robot.yaml).
const (
	robotPasswordPath = "/etc/collaborate/password"
	robotCAPath       = "/etc/collaborate/ca.crt"
)

// runEnroll is "orchestrator enroll ID --broker URL [--out DIR|-]": it
// creates (or renews) robot ID's account with a random password, gives it
// face markers no other enrolled robot carries, and writes its bundle. The
// running orchestrator picks up the account within seconds.
func runEnroll(args []string, env environ, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("orchestrator enroll", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	stateFlags(fs, env, &cfg, true)
	brokerURL := fs.String("broker", "", "the broker URL the robot dials, e.g. tls://192.168.4.10:8883 (comma-separated for a cluster)")
	out := fs.String("out", "-", "where to write the bundle: a directory, or - for a .tar.gz on stdout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: orchestrator enroll ID --broker tls://LAPTOP:8883 [--out DIR|-] > ID.tar.gz")
		fs.PrintDefaults()
	}
	// The robot's id may come before or after the flags.
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("enroll: unexpected argument %q", fs.Arg(0))
	}
	if id == "" {
		fs.Usage()
		return errors.New("enroll: which robot? e.g. orchestrator enroll r5 --broker tls://192.168.4.10:8883")
	}
	if err := topics.CheckRobotID(id); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	urls, hosts, tlsWanted, err := brokerURLs(*brokerURL)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if *out == "-" {
		if f, ok := stdout.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			return fmt.Errorf("enroll: the bundle is a .tar.gz: redirect it (> %s.tar.gz) or give --out DIR", id)
		}
	}
	if cfg.credentials == "" {
		cfg.credentials = filepath.Join(cfg.stateDir, "credentials.yaml")
	}
	files := filesOf(cfg)

	// The CA first: a robot config that names a CA the bundle lacks would
	// leave an account nobody can use.
	var ca []byte
	if tlsWanted {
		if ca, err = enrollTLS(cfg, hosts, stderr); err != nil {
			return fmt.Errorf("enroll: %w", err)
		}
	}

	user, err := loadIfExists(files.user)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if _, ok := user.Lookup(id); ok {
		return fmt.Errorf("enroll: %s is in %s, which is yours and read-only: its password is the one you set there; remove it from that file to enroll it", id, files.user)
	}
	own, err := loadIfExists(files.own)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if u, ok := own.Lookup(id); ok && u.Role != broker.RoleRobot {
		return fmt.Errorf("enroll: %s is already a user with role %s in %s", id, u.Role, files.own)
	}
	first, last, err := enroll.FaceRange(deploy.RobotExample)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	regPath := filepath.Join(cfg.stateDir, registryFile)
	reg, err := enroll.LoadRegistry(regPath)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	_, again := reg.Robots[id]
	faceBase, err := reg.Assign(id, first, last, time.Now())
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	password, err := broker.RandomPassword()
	if err != nil {
		return err
	}
	v := enroll.Values{ID: id, Broker: strings.Join(urls, ","), PasswordFile: robotPasswordPath, FaceBase: faceBase}
	if tlsWanted {
		v.TLSCA = robotCAPath
	}
	robotYAML, err := enroll.RenderConfig(deploy.RobotExample, v)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	bundle := []enroll.File{
		{Name: "robot.yaml", Mode: 0o640, Data: robotYAML},
		{Name: "password", Mode: 0o600, Data: []byte(password + "\n")},
		{Name: "robot.service", Mode: 0o644, Data: deploy.RobotUnit},
		{Name: "install-robot.sh", Mode: 0o755, Data: deploy.InstallRobot},
	}
	if tlsWanted {
		bundle = append(bundle, enroll.File{Name: "ca.crt", Mode: 0o644, Data: ca})
	}

	// Write the bundle before the account: a failed write leaves the old
	// password working.
	var where string
	if *out == "-" {
		var buf bytes.Buffer
		if err := enroll.WriteTarGz(&buf, id, bundle, time.Now()); err != nil {
			return fmt.Errorf("enroll: %w", err)
		}
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("enroll: write the bundle: %w", err)
		}
		where = "the .tar.gz on stdout"
	} else {
		if err := enroll.WriteDir(*out, bundle); err != nil {
			return fmt.Errorf("enroll: %w", err)
		}
		where = *out
	}
	if err := own.SetPassword(id, broker.RoleRobot, []byte(password)); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if err := own.Save(files.own); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if err := reg.Save(regPath); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	verb := "enrolled"
	if again {
		verb = "enrolled again (new password, same face markers)"
	}
	fmt.Fprintf(stderr, "enroll: %s %s, broker %s; its account is in %s\n", verb, id, v.Broker, files.own)
	fmt.Fprintf(stderr, "enroll: face markers %d (front), %d (left), %d (back), %d (right): print them and stick them on\n", faceBase, faceBase+1, faceBase+2, faceBase+3)
	fmt.Fprintf(stderr, "enroll: bundle: %s (robot.yaml, password, %sinstall-robot.sh, robot.service)\n", where, map[bool]string{true: "ca.crt, "}[tlsWanted])
	fmt.Fprintf(stderr, "enroll: on the Pi: tar xzf %s.tar.gz && sudo %s/install-robot.sh   (--binary PATH to install a robot binary too)\n", id, id)
	return nil
}

// brokerURLs checks the robot's broker URL(s) and returns them, their
// hosts, and whether any is TLS.
func brokerURLs(s string) (urls, hosts []string, tlsWanted bool, err error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil, false, errors.New("--broker is required: the address robots dial, e.g. tls://192.168.4.10:8883 (this laptop's Wi-Fi address, MQTT over TLS)")
	}
	for _, raw := range splitList(s) {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, nil, false, fmt.Errorf("--broker %q: %w", raw, err)
		}
		switch u.Scheme {
		case "tls", "ssl", "mqtts":
			tlsWanted = true
		case "tcp", "mqtt":
		default:
			return nil, nil, false, fmt.Errorf("--broker %q: the scheme must be tls:// (or tcp:// for plain MQTT)", raw)
		}
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil || host == "" || port == "" || u.Path != "" {
			return nil, nil, false, fmt.Errorf("--broker %q: want SCHEME://HOST:PORT, e.g. tls://192.168.4.10:8883", raw)
		}
		if err := certs.CheckHost(host); err != nil {
			return nil, nil, false, fmt.Errorf("--broker %q: %w", raw, err)
		}
		urls, hosts = append(urls, raw), append(hosts, host)
	}
	return urls, hosts, tlsWanted, nil
}

// enrollTLS returns the CA a robot trusts. With the orchestrator's own
// certificate, it makes sure the certificate names every host the robot
// dials (the running orchestrator serves the renewed one at once); with
// yours, it checks that it does.
func enrollTLS(cfg config, hosts []string, stderr io.Writer) ([]byte, error) {
	src := findTLS(cfg)
	var want certs.Names
	want.Add(hosts...)
	if src.generated {
		res, err := src.dir.Ensure(wantNames(cfg, hosts...), time.Now())
		if err != nil {
			return nil, err
		}
		if res.NewCA {
			fmt.Fprintf(stderr, "enroll: made a private CA, %s\n", src.ca)
		}
		if res.NewServer {
			fmt.Fprintf(stderr, "enroll: renewed the server certificate %s (%s) for %s\n", src.cert, res.Why, res.Names)
		}
	} else {
		if src.ca == "" {
			return nil, fmt.Errorf("the broker's certificate %s has no ca.crt beside it: robots need the CA", src.cert)
		}
		c, err := certs.ReadCert(src.cert)
		if err != nil {
			return nil, err
		}
		if !certs.NamesOf(c).Covers(want) {
			return nil, fmt.Errorf("your certificate %s names %s, not %s: robots would refuse it; make it again (deploy/mkcerts.sh --host/--ip)", src.cert, certs.NamesOf(c), want)
		}
	}
	ca, err := os.ReadFile(src.ca)
	if err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	return ca, nil
}
