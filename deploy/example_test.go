package deploy_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"collaborate/robot/drive"
	"collaborate/robot/vision"
)

// yamlTags returns the yaml keys of the named struct types declared in a Go
// file, so this test follows robot/config.go (package main, not importable)
// as it changes.
func yamlTags(t *testing.T, path string, types ...string) map[string][]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	out := map[string][]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return true
		}
		for _, fld := range st.Fields.List {
			if fld.Tag == nil {
				continue
			}
			tag, _ := strconv.Unquote(fld.Tag.Value)
			key, _, _ := strings.Cut(reflect.StructTag(tag).Get("yaml"), ",")
			if key != "" && key != "-" {
				out[ts.Name.Name] = append(out[ts.Name.Name], key)
			}
		}
		return true
	})
	for _, ty := range types {
		if len(out[ty]) == 0 {
			t.Fatalf("%s: no struct %s with yaml tags", path, ty)
		}
	}
	return out
}

func decodeStrict(t *testing.T, node *yaml.Node, into any) {
	t.Helper()
	var buf bytes.Buffer
	if err := yaml.NewEncoder(&buf).Encode(node); err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(into); err != nil {
		t.Fatalf("decode into %T: %v", into, err)
	}
}

// TestRobotExample checks deploy/robot.example.yaml against the robot's
// config types: every key known, the drive section valid.
func TestRobotExample(t *testing.T) {
	b, err := os.ReadFile("robot.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(b, &top); err != nil {
		t.Fatalf("robot.example.yaml: %v", err)
	}
	tags := yamlTags(t, "../robot/config.go", "Config", "PilotConfig")
	for key := range top {
		if !slices.Contains(tags["Config"], key) {
			t.Errorf("top-level key %q is not in robot Config %v", key, tags["Config"])
		}
	}
	for _, key := range []string{"id", "broker", "tls_ca", "password_file", "vision", "drive", "pilot"} {
		if _, ok := top[key]; !ok {
			t.Errorf("the example lacks %q", key)
		}
	}
	if n, ok := top["pilot"]; ok {
		var pilot map[string]any
		if err := n.Decode(&pilot); err != nil {
			t.Fatal(err)
		}
		for key := range pilot {
			if !slices.Contains(tags["PilotConfig"], key) {
				t.Errorf("pilot.%s is not in PilotConfig %v", key, tags["PilotConfig"])
			}
		}
	}
	d := drive.Config{}
	n := top["drive"]
	decodeStrict(t, &n, &d)
	if err := d.Validate(); err != nil {
		t.Errorf("drive section: %v", err)
	}
	v := vision.DefaultConfig()
	n = top["vision"]
	decodeStrict(t, &n, &v)
	if v.Camera.Width != 640 || v.Markers.Face.First != 100 {
		t.Errorf("vision section decoded to %+v", v)
	}
}
