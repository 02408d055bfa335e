package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"collaborate/broker"
)

// initialPasswordsFile is where the first run writes the passwords it made,
// beside the state, readable by the orchestrator's user only.
const initialPasswordsFile = "initial-passwords.txt"

// userCredentialsFile is the credentials file the user may put in
// --config-dir.
const userCredentialsFile = "credentials.yaml"

// credentialFiles are the layers of accounts the orchestrator serves, the
// first winning for a user name found in both: the user's own file in
// --config-dir (read only; the container mounts it read-only), then the
// file the orchestrator writes (--credentials, in the state by default).
type credentialFiles struct {
	user string // "" without --config-dir
	own  string
}

func filesOf(cfg config) credentialFiles {
	f := credentialFiles{own: cfg.credentials}
	if cfg.configDir != "" {
		f.user = filepath.Join(cfg.configDir, userCredentialsFile)
	}
	return f
}

// loadIfExists loads a credentials file; a missing one is empty.
func loadIfExists(path string) (*broker.Credentials, error) {
	if path == "" {
		return &broker.Credentials{}, nil
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return &broker.Credentials{}, nil
	}
	c, err := broker.LoadCredentials(path)
	if err != nil && errors.Is(err, os.ErrPermission) {
		return nil, fmt.Errorf("%w (the orchestrator runs as uid %d: give its group read access, e.g. chmod 0640 and, with docker compose, COLLAB_GID set to the file's group)", err, os.Getuid())
	}
	return c, err
}

// load reads both layers and merges them.
func (f credentialFiles) load(extra ...*broker.Credentials) (*broker.Credentials, error) {
	user, err := loadIfExists(f.user)
	if err != nil {
		return nil, err
	}
	own, err := loadIfExists(f.own)
	if err != nil {
		return nil, err
	}
	return merge(append([]*broker.Credentials{user, own}, extra...)...)
}

// merge returns the users of every layer, a name taken from the first
// layer that has it.
func merge(layers ...*broker.Credentials) (*broker.Credentials, error) {
	out := &broker.Credentials{}
	seen := map[string]bool{}
	for _, l := range layers {
		if l == nil {
			continue
		}
		for _, u := range l.Users {
			if !seen[u.Name] {
				seen[u.Name] = true
				out.Users = append(out.Users, u)
			}
		}
	}
	slices.SortFunc(out.Users, func(a, b broker.User) int { return strings.Compare(a.Name, b.Name) })
	// Index now, while nobody else holds them: Lookup indexes on first use,
	// and the broker and the dashboard would race to do it.
	if len(out.Users) > 0 {
		if _, ok := out.Lookup(out.Users[0].Name); !ok {
			return nil, errors.New("credentials: the merged users do not index")
		}
	}
	return out, nil
}

// byRole lists the names of users with one of roles.
func byRole(c *broker.Credentials, roles ...broker.Role) []string {
	var names []string
	for _, u := range c.Users {
		if slices.Contains(roles, u.Role) {
			names = append(names, u.Name)
		}
	}
	return names
}

// firstRunAccount is an account a start makes when no user can do its job.
type firstRunAccount struct {
	role  broker.Role
	names []string // the first free one is taken
	job   string
	// satisfied by a user with one of these roles
	covered []broker.Role
}

var firstRunAccounts = []firstRunAccount{
	{broker.RoleOrchestrator, []string{"orchestrator", "admin"}, "dashboard controls, MQTT everything", []broker.Role{broker.RoleOrchestrator, broker.RoleOperator}},
	{broker.RoleObserver, []string{"watch", "observer"}, "mosquitto_sub and the dashboard, read-only", []broker.Role{broker.RoleObserver}},
}

// ensureAccounts makes sure that someone can log in to control the fleet
// (an orchestrator or operator user) and someone can watch it (an observer),
// whatever the user did before the first start: for each job no user does,
// it adds one with a random password to the orchestrator's own credentials
// file and writes the password, in clear, only to
// STATE_DIR/initial-passwords.txt (0600). It says on stdout what it made,
// where the passwords are and how to read them; never the passwords.
func ensureAccounts(cfg config, files credentialFiles, stdout io.Writer) error {
	merged, err := files.load()
	if err != nil {
		return err
	}
	var made []string
	var clear strings.Builder
	own, err := loadIfExists(files.own)
	if err != nil {
		return err
	}
	for _, acc := range firstRunAccounts {
		if len(byRole(merged, acc.covered...)) > 0 {
			continue
		}
		name := ""
		for _, n := range acc.names {
			if _, taken := merged.Lookup(n); !taken {
				name = n
				break
			}
		}
		if name == "" {
			return fmt.Errorf("credentials: no %s user, and the names %v are taken by other roles: add one with orchestrator passwd --role %s", acc.role, acc.names, acc.role)
		}
		p, err := broker.RandomPassword()
		if err != nil {
			return err
		}
		if err := own.SetPassword(name, acc.role, []byte(p)); err != nil {
			return err
		}
		fmt.Fprintf(&clear, "%s %s\n", name, p)
		made = append(made, fmt.Sprintf("%s (role %s: %s)", name, acc.role, acc.job))
	}
	if len(made) == 0 {
		return nil
	}
	passwords := filepath.Join(cfg.stateDir, initialPasswordsFile)
	old, err := os.ReadFile(passwords)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("initial passwords: %w", err)
	}
	if len(old) == 0 {
		old = []byte("# Passwords made by the orchestrator's first run, one \"user password\" per line.\n# Change them with orchestrator passwd, then delete this file.\n")
	}
	// The passwords first: a crash between the two writes leaves an unused
	// password, never an account nobody can log in to.
	if err := broker.WriteFileAtomic(passwords, append(old, clear.String()...), 0o600); err != nil {
		return fmt.Errorf("initial passwords: %w", err)
	}
	if err := own.Save(files.own); err != nil {
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("%w: the orchestrator writes its own accounts to --credentials (default STATE_DIR/credentials.yaml), which must be writable; put yours in --config-dir, read-only", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "first run: created %s in %s\n", strings.Join(made, " and "), files.own)
	fmt.Fprintf(stdout, "first run: their passwords are in %s; read them with:\n", passwords)
	fmt.Fprintf(stdout, "    orchestrator passwords --state-dir %s\n", cfg.stateDir)
	fmt.Fprintf(stdout, "    docker compose exec orchestrator orchestrator passwords    (with docker compose)\n")
	return nil
}

// describeAccounts says who can do what, on every start: names only.
func describeAccounts(c *broker.Credentials, files credentialFiles, stdout io.Writer) {
	none := func(s []string) string {
		if len(s) == 0 {
			return "none"
		}
		return strings.Join(s, ", ")
	}
	from := files.own
	if files.user != "" {
		if _, err := os.Stat(files.user); err == nil {
			from = files.user + " over " + files.own
		}
	}
	fmt.Fprintf(stdout, "accounts (%s): control %s; watch %s; robots %s\n", from,
		none(byRole(c, broker.RoleOrchestrator, broker.RoleOperator)), none(byRole(c, broker.RoleObserver)),
		none(byRole(c, broker.RoleRobot)))
}

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
	line, err := readLine(stdin)
	if err != nil {
		return fmt.Errorf("passwd: read password from stdin: %w", err)
	}
	if line == "" {
		return errors.New("passwd: empty password on stdin")
	}
	creds, err := loadIfExists(*path)
	if err != nil {
		return fmt.Errorf("passwd: %w", err)
	}
	_, existed := creds.Lookup(name)
	if err := creds.SetPassword(name, broker.Role(*role), []byte(line)); err != nil {
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

// readLine reads the first line of r, without its line ending.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// runPasswords is "orchestrator passwords": it prints the first run's
// passwords, for `docker compose exec` (the image has no shell and no cat).
func runPasswords(args []string, env environ, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("orchestrator passwords", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stateDir := fs.String("state-dir", defaultStateDir(env), "the orchestrator's state directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("passwords: unexpected argument %q", fs.Arg(0))
	}
	path := filepath.Join(*stateDir, initialPasswordsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("passwords: no %s: the first run writes it when it makes accounts; it is gone if you deleted it (then set new passwords with orchestrator passwd)", path)
	}
	if err != nil {
		return fmt.Errorf("passwords: %w", err)
	}
	_, err = stdout.Write(b)
	return err
}
