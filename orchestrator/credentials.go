package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"collaborate/broker"
)

// initialPasswordsFile is written on first run, beside the state.
const initialPasswordsFile = "initial-passwords.txt"

// runPasswd is "orchestrator passwd --credentials FILE --role ROLE NAME": it
// reads the password from the first line of stdin and stores its hash.
func runPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("orchestrator passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("credentials", "", "credentials YAML file (created if missing)")
	role := fs.String("role", "", "robot, observer, orchestrator or operator")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: orchestrator passwd --credentials FILE --role ROLE NAME < password")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("passwd: --credentials is required")
	}
	if !broker.ValidRole(broker.Role(*role)) {
		return fmt.Errorf("passwd: --role must be one of %v, got %q", broker.Roles, *role)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("passwd: want exactly one user name after the flags, got %d", fs.NArg())
	}
	name := fs.Arg(0)
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("passwd: read password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return errors.New("passwd: empty password on stdin")
	}
	creds := &broker.Credentials{}
	if _, err := os.Stat(*path); err == nil {
		if creds, err = broker.LoadCredentials(*path); err != nil {
			return fmt.Errorf("passwd: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("passwd: %w", err)
	}
	_, existed := creds.Lookup(name)
	if err := creds.SetPassword(name, broker.Role(*role), []byte(password)); err != nil {
		return fmt.Errorf("passwd: %w", err)
	}
	if err := creds.Save(*path); err != nil {
		return fmt.Errorf("passwd: %w", err)
	}
	verb := "added"
	if existed {
		verb = "updated"
	}
	fmt.Fprintf(stdout, "%s %s (%s) in %s\n", verb, name, *role, *path)
	return nil
}

// bootstrapCredentials creates the credentials file when there is none,
// with random passwords for "orchestrator" and the observer "watch", written
// in clear only to STATE_DIR/initial-passwords.txt (0600).
func bootstrapCredentials(cfg config, stdout io.Writer) error {
	if _, err := os.Stat(cfg.credentials); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("credentials: %w", err)
	}
	creds := &broker.Credentials{}
	var clear strings.Builder
	clear.WriteString("# Initial passwords, written once by the first run. Change them with\n# orchestrator passwd, then delete this file.\n")
	for _, u := range []struct {
		name string
		role broker.Role
	}{{"orchestrator", broker.RoleOrchestrator}, {"watch", broker.RoleObserver}} {
		p, err := broker.RandomPassword()
		if err != nil {
			return err
		}
		if err := creds.SetPassword(u.name, u.role, []byte(p)); err != nil {
			return err
		}
		fmt.Fprintf(&clear, "%s %s\n", u.name, p)
	}
	passwords := filepath.Join(cfg.stateDir, initialPasswordsFile)
	if err := broker.WriteFileAtomic(passwords, []byte(clear.String()), 0o600); err != nil {
		return fmt.Errorf("initial passwords: %w", err)
	}
	if err := creds.Save(cfg.credentials); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created credentials %s with users orchestrator and watch; their passwords are in %s\n",
		cfg.credentials, passwords)
	return nil
}
