package broker

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"collaborate/topics"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// Role is what a user may do on the broker.
type Role string

// Roles of the credentials file.
const (
	RoleOrchestrator Role = "orchestrator" // everything
	RoleRobot        Role = "robot"        // its own robot topics only
	RoleObserver     Role = "observer"     // read-only, everything
	RoleOperator     Role = "operator"     // dashboard user; on MQTT like observer
)

// Roles lists every valid role.
var Roles = []Role{RoleOrchestrator, RoleRobot, RoleObserver, RoleOperator}

// ValidRole reports whether r is one of Roles.
func ValidRole(r Role) bool {
	for _, v := range Roles {
		if v == r {
			return true
		}
	}
	return false
}

// User is one entry of the credentials file. Only the bcrypt hash of the
// password is ever stored.
type User struct {
	Name string `yaml:"name"`
	Role Role   `yaml:"role"`
	Hash string `yaml:"hash"`
}

// Credentials is the YAML credentials file:
//
//	users:
//	  - {name: r1, role: robot, hash: $2a$10$...}
type Credentials struct {
	Users []User `yaml:"users"`

	byName map[string]int
}

// bcryptCost is the cost of new hashes; tests lower it to stay fast.
var bcryptCost = bcrypt.DefaultCost

// LoadCredentials reads and checks a credentials file.
func LoadCredentials(path string) (*Credentials, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load credentials: %w", err)
	}
	var c Credentials
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("load credentials %s: %w", path, err)
	}
	if err := c.index(); err != nil {
		return nil, fmt.Errorf("load credentials %s: %w", path, err)
	}
	return &c, nil
}

// index checks every user and builds the name index.
func (c *Credentials) index() error {
	c.byName = make(map[string]int, len(c.Users))
	for i, u := range c.Users {
		if err := checkUser(u.Name, u.Role); err != nil {
			return fmt.Errorf("user %d: %w", i+1, err)
		}
		if _, err := bcrypt.Cost([]byte(u.Hash)); err != nil {
			return fmt.Errorf("user %q: hash is not a bcrypt hash: %w", u.Name, err)
		}
		if _, dup := c.byName[u.Name]; dup {
			return fmt.Errorf("user %q appears twice", u.Name)
		}
		c.byName[u.Name] = i
	}
	return nil
}

func checkUser(name string, role Role) error {
	if !ValidRole(role) {
		return fmt.Errorf("user %q: unknown role %q (want one of %v)", name, role, Roles)
	}
	if name == "" {
		return errors.New("user name is empty")
	}
	if name == InlineClientID {
		return fmt.Errorf("user name %q is reserved", name)
	}
	if role == RoleRobot {
		// A robot's name is its client id and the id in its topics.
		if err := topics.CheckRobotID(name); err != nil {
			return fmt.Errorf("robot user: %w", err)
		}
	}
	return nil
}

// robotIDs are the names of the robot accounts.
func (c *Credentials) robotIDs() []string {
	var ids []string
	for _, u := range c.Users {
		if u.Role == RoleRobot {
			ids = append(ids, u.Name)
		}
	}
	return ids
}

// RobotIDs returns the names of the robot accounts: the bounded set of
// robot ids that metrics label series with.
func (c *Credentials) RobotIDs() []string {
	if c == nil {
		return nil
	}
	return c.robotIDs()
}

// Lookup returns the user called name.
func (c *Credentials) Lookup(name string) (User, bool) {
	if c == nil {
		return User{}, false
	}
	if c.byName == nil {
		if err := c.index(); err != nil {
			return User{}, false
		}
	}
	i, ok := c.byName[name]
	if !ok {
		return User{}, false
	}
	return c.Users[i], true
}

// Verify checks a password against the user's bcrypt hash.
func (c *Credentials) Verify(name string, password []byte) (User, bool) {
	u, ok := c.Lookup(name)
	if !ok {
		return User{}, false
	}
	if bcrypt.CompareHashAndPassword([]byte(u.Hash), password) != nil {
		return User{}, false
	}
	return u, true
}

// SetPassword adds the user, or replaces its role and hash.
func (c *Credentials) SetPassword(name string, role Role, password []byte) error {
	if err := checkUser(name, role); err != nil {
		return err
	}
	if c.byName == nil {
		if err := c.index(); err != nil {
			return err
		}
	}
	if len(password) == 0 {
		return fmt.Errorf("user %q: empty password", name)
	}
	if len(password) > 72 {
		return fmt.Errorf("user %q: password longer than 72 bytes (bcrypt's limit)", name)
	}
	h, err := bcrypt.GenerateFromPassword(password, bcryptCost)
	if err != nil {
		return fmt.Errorf("hash password of %q: %w", name, err)
	}
	u := User{Name: name, Role: role, Hash: string(h)}
	if i, ok := c.byName[name]; ok {
		c.Users[i] = u
		return nil
	}
	c.Users = append(c.Users, u)
	sort.Slice(c.Users, func(i, j int) bool { return c.Users[i].Name < c.Users[j].Name })
	return c.index()
}

// Save writes the file atomically, readable by its owner only.
func (c *Credentials) Save(path string) error {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	b = append([]byte("# collaborate broker credentials: bcrypt hashes only.\n# Add or change a user with: orchestrator passwd --credentials FILE --role ROLE NAME\n"), b...)
	return WriteFileAtomic(path, b, 0o600)
}

// WriteFileAtomic writes data to a temporary file beside path and renames it
// over path, so that a crash never leaves a half-written file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// RandomPassword returns a random password of 128 bits, URL-safe base64.
func RandomPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
