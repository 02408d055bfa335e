package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"collaborate/internal/testkit"
)

// TestReadmeLayoutMatchesTheTree checks the README's package map against
// the module's packages: every package is named in the row of its top
// directory (a top-level package by that row itself), and every row's
// directory exists.
func TestReadmeLayoutMatchesTheTree(t *testing.T) {
	root, err := testkit.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## Layout\n")
	if i < 0 {
		t.Fatal("README has no section Layout")
	}
	s = s[i+len("\n## Layout\n"):]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	rows := map[string]string{} // first cell's directory -> the rest of the row
	for _, l := range strings.Split(s, "\n") {
		cells := strings.Split(l, "|")
		if len(cells) < 3 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		dir := strings.Trim(strings.TrimSpace(cells[1]), "`/")
		if _, err := os.Stat(filepath.Join(root, dir)); err != nil {
			t.Errorf("README layout names %s, which is not in the tree", dir)
		}
		rows[dir] = strings.Join(cells[2:], "|")
	}
	cmd := exec.Command("go", "list", "-f", "{{.Dir}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	n := 0
	for _, d := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, d)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		n++
		if _, ok := rows[rel]; ok {
			continue
		}
		parts := strings.Split(rel, "/")
		row, ok := rows[parts[0]]
		if !ok {
			t.Errorf("package %s: the README layout has no row for %s/", rel, parts[0])
			continue
		}
		if !strings.Contains(row, "`"+parts[len(parts)-1]+"`") {
			t.Errorf("package %s: not named in the README layout's row for %s/", rel, parts[0])
		}
	}
	if n < 10 {
		t.Fatalf("go list found %d packages: not this module's tree", n)
	}
}
