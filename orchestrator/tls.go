package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"collaborate/orchestrator/certs"
)

// The TLS material's places: STATE_DIR/tls for what the orchestrator makes,
// CONFIG_DIR/tls for what the user brings (deploy/mkcerts.sh writes there).
const tlsSubdir = "tls"

// tlsSource is where the broker's and the dashboard's certificate comes
// from, the first that applies winning: --tls-cert and --tls-key; the
// user's CONFIG_DIR/tls/server.{crt,key}; else the orchestrator's own CA
// and certificate in STATE_DIR/tls, made and renewed as needed.
type tlsSource struct {
	cert, key string
	ca        string // the CA robots trust; "" when not known (--tls-cert alone)
	generated bool
	dir       certs.Dir // the generated material's directory, when generated
}

func findTLS(cfg config) tlsSource {
	if cfg.tlsCert != "" {
		return tlsSource{cert: cfg.tlsCert, key: cfg.tlsKey}
	}
	if cfg.configDir != "" {
		d := certs.Dir(filepath.Join(cfg.configDir, tlsSubdir))
		if _, err := os.Stat(d.Path(certs.ServerCert)); err == nil {
			s := tlsSource{cert: d.Path(certs.ServerCert), key: d.Path(certs.ServerKey)}
			if _, err := os.Stat(d.Path(certs.CACert)); err == nil {
				s.ca = d.Path(certs.CACert)
			}
			return s
		}
	}
	d := certs.Dir(filepath.Join(cfg.stateDir, tlsSubdir))
	return tlsSource{cert: d.Path(certs.ServerCert), key: d.Path(certs.ServerKey), ca: d.Path(certs.CACert), generated: true, dir: d}
}

// wantNames are the names a generated certificate carries: this machine's
// (in a container, the container's), then --tls-host and --tls-ip.
func wantNames(cfg config, more ...string) certs.Names {
	n := certs.Local()
	n.Add(cfg.tlsHosts...)
	n.Add(more...)
	return n
}

// prepareTLS makes or renews the generated material when that is the
// source, and says on stdout what is served and which CA robots trust.
func prepareTLS(cfg config, stdout io.Writer) (tlsSource, error) {
	src := findTLS(cfg)
	if !src.generated {
		if src.ca == "" {
			fmt.Fprintf(stdout, "tls: serving %s (given); robots need the CA that signed it\n", src.cert)
		} else {
			fmt.Fprintf(stdout, "tls: serving %s (given); robots trust %s\n", src.cert, src.ca)
		}
		if len(cfg.tlsHosts) > 0 {
			fmt.Fprintf(stdout, "tls: --tls-host and --tls-ip apply only to the certificate the orchestrator makes; %s is yours\n", src.cert)
		}
		return src, nil
	}
	res, err := src.dir.Ensure(wantNames(cfg), time.Now())
	if err != nil {
		return src, fmt.Errorf("tls: %w", err)
	}
	if res.NewCA {
		fmt.Fprintf(stdout, "tls: made a private CA, %s: every robot trusts it (enroll bundles carry it; orchestrator ca prints it)\n", src.ca)
	}
	if res.NewServer {
		fmt.Fprintf(stdout, "tls: made the server certificate %s (%s) for %s\n", src.cert, res.Why, res.Names)
	} else {
		fmt.Fprintf(stdout, "tls: serving %s for %s; robots trust %s\n", src.cert, res.Names, src.ca)
	}
	return src, nil
}

// runCA is "orchestrator ca": it prints the CA certificate robots trust
// (public), for `docker compose exec -T orchestrator orchestrator ca > ca.crt`.
func runCA(args []string, env environ, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("orchestrator ca", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{}
	stateFlags(fs, env, &cfg, false)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("ca: unexpected argument %q", fs.Arg(0))
	}
	src := findTLS(cfg)
	if src.ca == "" {
		return fmt.Errorf("ca: %s has no ca.crt beside it", src.cert)
	}
	b, err := os.ReadFile(src.ca)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("ca: no CA yet in %s: start the orchestrator with --tls-addr (it makes one), or enroll a robot with a tls:// broker", filepath.Dir(src.ca))
	}
	if err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	_, err = stdout.Write(b)
	return err
}

// listFlag is a repeatable flag whose values may also be comma-separated;
// an empty value adds nothing (docker compose passes --tls-host= when its
// variable is unset).
type listFlag struct {
	vals  *[]string
	check func(string) error
}

func (l listFlag) String() string {
	if l.vals == nil {
		return ""
	}
	return fmt.Sprint(*l.vals)
}

func (l listFlag) Set(v string) error {
	for _, s := range splitList(v) {
		if err := l.check(s); err != nil {
			return err
		}
		*l.vals = append(*l.vals, s)
	}
	return nil
}

func checkIP(s string) error {
	if net.ParseIP(s) == nil {
		return fmt.Errorf("%q is not an IP address", s)
	}
	return nil
}
