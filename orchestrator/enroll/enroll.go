package enroll

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"collaborate/broker"
)

// Robot is one enrolled robot.
type Robot struct {
	FaceBase int       `yaml:"face_base"` // its faces: front, left, back, right = FaceBase..FaceBase+3
	Enrolled time.Time `yaml:"enrolled"`
}

// Registry is the record of enrolled robots (see the package comment).
type Registry struct {
	Robots map[string]Robot `yaml:"robots"`
}

// LoadRegistry reads a registry; a missing file is an empty one.
func LoadRegistry(path string) (*Registry, error) {
	r := &Registry{Robots: map[string]Robot{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("robot registry: %w", err)
	}
	if err := yaml.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("robot registry %s: %w", path, err)
	}
	if r.Robots == nil {
		r.Robots = map[string]Robot{}
	}
	return r, nil
}

// Save writes the registry atomically.
func (r *Registry) Save(path string) error {
	b, err := yaml.Marshal(r)
	if err != nil {
		return fmt.Errorf("robot registry: %w", err)
	}
	b = append([]byte("# Robots enrolled with `orchestrator enroll`, and their face markers.\n"), b...)
	return broker.WriteFileAtomic(path, b, 0o600)
}

var robotNumber = regexp.MustCompile(`^r([1-9][0-9]*)$`)

// Assign returns id's face base within the face marker ids [first, last]:
// the one it already has, else 100+4(N-1) for rN when free (and in range),
// else the lowest free block of four. It records the robot.
func (r *Registry) Assign(id string, first, last int, now time.Time) (int, error) {
	if rb, ok := r.Robots[id]; ok {
		return rb.FaceBase, nil
	}
	used := func(base int) bool {
		for _, rb := range r.Robots {
			if base < rb.FaceBase+4 && rb.FaceBase < base+4 {
				return true
			}
		}
		return false
	}
	fits := func(base int) bool { return base >= first && base+3 <= last && !used(base) }
	base := -1
	if m := robotNumber.FindStringSubmatch(id); m != nil {
		n, _ := strconv.Atoi(m[1])
		if b := first + 4*(n-1); n < 1000 && fits(b) {
			base = b
		}
	}
	for b := first; base < 0 && b+3 <= last; b += 4 {
		if fits(b) {
			base = b
		}
	}
	if base < 0 {
		return 0, fmt.Errorf("no four free face marker ids left in %d..%d for %s (%d robots enrolled): widen vision.markers.face in the robot config", first, last, id, len(r.Robots))
	}
	r.Robots[id] = Robot{FaceBase: base, Enrolled: now.UTC().Truncate(time.Second)}
	return base, nil
}

// FaceRange reads vision.markers.face.{first,last} from a robot config.
func FaceRange(config []byte) (first, last int, err error) {
	var c struct {
		Vision struct {
			Markers struct {
				Face struct {
					First int `yaml:"first"`
					Last  int `yaml:"last"`
				} `yaml:"face"`
			} `yaml:"markers"`
		} `yaml:"vision"`
	}
	if err := yaml.Unmarshal(config, &c); err != nil {
		return 0, 0, fmt.Errorf("robot config: %w", err)
	}
	f := c.Vision.Markers.Face
	if f.Last < f.First+3 || f.First < 0 {
		return 0, 0, fmt.Errorf("robot config: vision.markers.face %d..%d holds no four ids", f.First, f.Last)
	}
	return f.First, f.Last, nil
}

// Values are what RenderConfig sets in a robot config.
type Values struct {
	ID           string
	Broker       string
	TLSCA        string // empty: the key is emptied (plain MQTT)
	PasswordFile string
	FaceBase     int
}

// RenderConfig sets the top-level keys id, broker, tls_ca, password_file
// and face_base of a robot config (deploy/robot.example.yaml), line by
// line, keeping each line's comment and every other line as it is. Every
// key must be there, once.
func RenderConfig(example []byte, v Values) ([]byte, error) {
	set := map[string]string{
		"id":            v.ID,
		"broker":        v.Broker,
		"tls_ca":        v.TLSCA,
		"password_file": v.PasswordFile,
		"face_base":     strconv.Itoa(v.FaceBase),
	}
	seen := map[string]int{}
	lines := strings.SplitAfter(string(example), "\n")
	for i, line := range lines {
		key, rest, ok := strings.Cut(line, ":")
		val, has := set[key]
		if !ok || !has {
			continue
		}
		seen[key]++
		comment := ""
		if j := strings.Index(rest, " #"); j >= 0 {
			comment = strings.TrimRight(rest[j:], "\n")
			// Keep the comment's column.
			pad := len(rest[:j]) - len(quote(val)) - 1
			comment = strings.Repeat(" ", max(pad, 0)) + comment
		}
		nl := ""
		if strings.HasSuffix(line, "\n") {
			nl = "\n"
		}
		lines[i] = key + ": " + quote(val) + comment + nl
	}
	for _, key := range []string{"id", "broker", "tls_ca", "password_file", "face_base"} {
		if seen[key] != 1 {
			return nil, fmt.Errorf("robot config template: top-level key %q appears %d times, want once", key, seen[key])
		}
	}
	out := []byte(strings.Join(lines, ""))
	var check map[string]any
	if err := yaml.Unmarshal(out, &check); err != nil {
		return nil, fmt.Errorf("robot config: rendered YAML does not parse: %w", err)
	}
	for key, want := range set {
		if got := fmt.Sprint(check[key]); got != want && !(want == "" && check[key] == nil) {
			return nil, fmt.Errorf("robot config: %s renders as %q, want %q", key, got, want)
		}
	}
	return out, nil
}

// quote writes a YAML scalar: plain when that reads back the same, else
// double-quoted.
func quote(s string) string {
	if s == "" {
		return `""`
	}
	var back string
	if yaml.Unmarshal([]byte("v: "+s), &struct {
		V *string `yaml:"v"`
	}{&back}) == nil && back == s && !strings.Contains(s, " #") {
		return s
	}
	return strconv.Quote(s)
}

// File is one file of a bundle.
type File struct {
	Name string // relative, no directories
	Mode os.FileMode
	Data []byte
}

// WriteDir writes the files into dir (made 0700 if missing).
func WriteDir(dir string, files []File) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		if err := os.Chmod(p, f.Mode); err != nil { // over the umask, and over an older file's mode
			return fmt.Errorf("bundle: %w", err)
		}
	}
	return nil
}

// WriteTarGz writes the files as a gzipped tar under the directory top.
func WriteTarGz(w io.Writer, top string, files []File, now time.Time) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	hdr := func(h *tar.Header) error {
		h.ModTime, h.Uname, h.Gname, h.Format = now, "root", "root", tar.FormatPAX
		return tw.WriteHeader(h)
	}
	if err := hdr(&tar.Header{Name: top + "/", Typeflag: tar.TypeDir, Mode: 0o700}); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, f := range sorted {
		if err := hdr(&tar.Header{Name: top + "/" + f.Name, Typeflag: tar.TypeReg, Mode: int64(f.Mode.Perm()), Size: int64(len(f.Data))}); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return gz.Close()
}
