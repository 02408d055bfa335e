package topics_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"collaborate/topics"
)

// The AsyncAPI document and the Go contract must describe the same topics,
// messages, fields, QoS and retain flags, and every example in the document
// must pass the Go decoder. Adding a kind, a message type or a field on one
// side only fails here.

type node = map[string]any

func loadSpec(t *testing.T) node {
	t.Helper()
	b, err := os.ReadFile("asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("asyncapi.yaml: %v", err)
	}
	return doc
}

func get(t *testing.T, n any, path ...string) any {
	t.Helper()
	cur := n
	for _, p := range path {
		m, ok := cur.(node)
		if !ok {
			t.Fatalf("asyncapi.yaml: %s: %v is not a mapping", strings.Join(path, "."), p)
		}
		cur, ok = m[p]
		if !ok {
			t.Fatalf("asyncapi.yaml: missing %s", strings.Join(path, "."))
		}
	}
	return cur
}

func getMap(t *testing.T, n any, path ...string) node {
	t.Helper()
	m, ok := get(t, n, path...).(node)
	if !ok {
		t.Fatalf("asyncapi.yaml: %s is not a mapping", strings.Join(path, "."))
	}
	return m
}

// resolve follows a local $ref such as '#/components/messages/pose'.
func resolve(t *testing.T, doc node, n any) (node, string) {
	t.Helper()
	m, ok := n.(node)
	if !ok {
		t.Fatalf("asyncapi.yaml: %v is not a mapping", n)
	}
	ref, ok := m["$ref"].(string)
	if !ok {
		return m, ""
	}
	if !strings.HasPrefix(ref, "#/") {
		t.Fatalf("asyncapi.yaml: only local refs, got %q", ref)
	}
	parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
	target, _ := resolve(t, doc, getMap(t, doc, parts...))
	return target, parts[len(parts)-1]
}

// messageNameOf is the name a kind's decode errors start with.
func messageNameOf(t *testing.T, k topics.Kind) string {
	t.Helper()
	_, err := topics.Decode(k, []byte(`{}`))
	var fe *topics.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("Decode(%q, {}) = %v, want a FieldError", k, err)
	}
	return fe.Message
}

// specKind turns a channel address into its kind, with r1 for {robotId}.
func specKind(t *testing.T, address string) (topics.Kind, bool) {
	t.Helper()
	robot := strings.Contains(address, "{robotId}")
	tp, err := topics.Parse(strings.ReplaceAll(address, "{robotId}", "r1"))
	if err != nil {
		t.Errorf("channel address %q is not a topic of the Go contract: %v", address, err)
		return "", false
	}
	if robot != (tp.Robot != "") {
		t.Errorf("channel address %q: robot parameter does not match the Go contract", address)
	}
	return tp.Kind, true
}

type specChannel struct {
	name    string
	address string
	kind    topics.Kind
	msgName string // key under components/messages
	msg     node
}

func specChannels(t *testing.T, doc node) map[topics.Kind]specChannel {
	t.Helper()
	out := map[topics.Kind]specChannel{}
	for name, ch := range getMap(t, doc, "channels") {
		address, _ := get(t, ch, "address").(string)
		k, ok := specKind(t, address)
		if !ok {
			continue
		}
		if prev, dup := out[k]; dup {
			t.Errorf("channels %q and %q both describe kind %q", prev.name, name, k)
		}
		msgs := getMap(t, ch, "messages")
		if len(msgs) != 1 {
			t.Errorf("channel %q has %d messages, want exactly 1", name, len(msgs))
			continue
		}
		var sc specChannel
		for _, m := range msgs {
			msg, msgName := resolve(t, doc, m)
			sc = specChannel{name: name, address: address, kind: k, msgName: msgName, msg: msg}
		}
		hasParam := false
		if p, ok := ch.(node)["parameters"].(node); ok {
			_, hasParam = p["robotId"]
		}
		if hasParam != strings.Contains(address, "{robotId}") {
			t.Errorf("channel %q: robotId parameter declared %v, address %q", name, hasParam, address)
		}
		out[k] = sc
	}
	return out
}

func TestAsyncAPIChannelsMatchGo(t *testing.T) {
	doc := loadSpec(t)
	if v := get(t, doc, "asyncapi"); v != "3.0.0" {
		t.Fatalf("asyncapi: %v, want 3.0.0", v)
	}
	chans := specChannels(t, doc)
	var inDoc, inGo []string
	for k := range chans {
		inDoc = append(inDoc, string(k))
	}
	for _, k := range allKinds() {
		inGo = append(inGo, string(k))
	}
	sort.Strings(inDoc)
	sort.Strings(inGo)
	if !slices.Equal(inDoc, inGo) {
		t.Fatalf("kinds differ:\n  asyncapi.yaml %v\n  Go            %v", inDoc, inGo)
	}
}

func TestAsyncAPIMessagesMatchGo(t *testing.T) {
	doc := loadSpec(t)
	chans := specChannels(t, doc)
	used := map[string]topics.Kind{}
	for _, k := range allKinds() {
		sc, ok := chans[k]
		if !ok {
			t.Errorf("kind %q has no channel in asyncapi.yaml", k)
			continue
		}
		t.Run(string(k), func(t *testing.T) {
			want := messageNameOf(t, k)
			if sc.msgName != want || sc.msg["name"] != want {
				t.Errorf("channel %q: message %q (name %v), want %q", sc.name, sc.msgName, sc.msg["name"], want)
			}
			if prev, dup := used[sc.msgName]; dup {
				t.Errorf("message %q used by kinds %q and %q", sc.msgName, prev, k)
			}
			used[sc.msgName] = k
			m, err := topics.New(k)
			if err != nil {
				t.Fatal(err)
			}
			goType := reflect.TypeOf(m).Elem()
			if sc.msg["x-go-type"] != goType.Name() {
				t.Errorf("message %q: x-go-type %v, Go type %s", sc.msgName, sc.msg["x-go-type"], goType.Name())
			}
			props, req := schemaFields(t, doc, getMap(t, sc.msg, "payload"))
			compareFields(t, doc, sc.msgName, goType, props, req)
		})
	}
	for name := range getMap(t, doc, "components", "messages") {
		if _, ok := used[name]; !ok {
			t.Errorf("components.messages.%s is used by no channel of the Go contract", name)
		}
	}
}

// Every struct in the package that embeds Header is a message type and must
// be a kind's type (topics.New) and so in the document.
func TestEveryGoMessageTypeHasAKind(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, k := range allKinds() {
		m, _ := topics.New(k)
		known[reflect.TypeOf(m).Elem().Name()] = true
	}
	found := 0
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
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
					if id, ok := fld.Type.(*ast.Ident); ok && len(fld.Names) == 0 && id.Name == "Header" {
						found++
						if !known[ts.Name.Name] {
							t.Errorf("type %s embeds Header but no kind decodes to it (topics.New) and asyncapi.yaml has no message for it", ts.Name.Name)
						}
					}
				}
				return true
			})
		}
	}
	if found != len(known) {
		t.Errorf("found %d message types in the source, %d kinds", found, len(known))
	}
}

func TestAsyncAPIPolicyMatchesGo(t *testing.T) {
	doc := loadSpec(t)
	chans := specChannels(t, doc)
	byChannel := map[string]node{}
	for name, op := range getMap(t, doc, "operations") {
		ch, chName := resolve(t, doc, get(t, op, "channel"))
		_ = ch
		if _, dup := byChannel[chName]; dup {
			t.Errorf("channel %q has more than one operation (%s)", chName, name)
		}
		byChannel[chName] = op.(node)
	}
	for _, k := range allKinds() {
		sc := chans[k]
		t.Run(string(k), func(t *testing.T) {
			op, ok := byChannel[sc.name]
			if !ok {
				t.Fatalf("channel %q has no operation", sc.name)
			}
			mq := getMap(t, op, "bindings", "mqtt")
			p := topics.PolicyOf(k)
			if q, _ := mq["qos"].(int); q != int(p.QoS) {
				t.Errorf("bindings.mqtt.qos %v, Go %d", mq["qos"], p.QoS)
			}
			if r, _ := mq["retain"].(bool); r != p.Retained {
				t.Errorf("bindings.mqtt.retain %v, Go %v", mq["retain"], p.Retained)
			}
		})
	}
}

func TestAsyncAPIExamplesDecode(t *testing.T) {
	doc := loadSpec(t)
	for k, sc := range specChannels(t, doc) {
		exs, _ := sc.msg["examples"].([]any)
		if len(exs) == 0 {
			t.Errorf("message %q has no example", sc.msgName)
		}
		for i, ex := range exs {
			name, _ := ex.(node)["name"].(string)
			t.Run(string(k)+"/"+name, func(t *testing.T) {
				b, err := json.Marshal(get(t, ex, "payload"))
				if err != nil {
					t.Fatalf("example %d: %v", i, err)
				}
				m, err := topics.Decode(k, b)
				if err != nil {
					t.Fatalf("example %q of %q does not decode: %v\n%s", name, sc.msgName, err, b)
				}
				sender := topics.HeaderOf(m).Sender
				if !strings.Contains(sc.address, "{robotId}") || k == topics.KindCmd {
					sender = "r1"
				}
				topic := strings.ReplaceAll(sc.address, "{robotId}", sender)
				if _, _, err := topics.DecodeTopic(topic, b); err != nil {
					t.Fatalf("example %q on %s: %v", name, topic, err)
				}
				if _, err := topics.Encode(m); err != nil {
					t.Fatalf("example %q does not re-encode: %v", name, err)
				}
			})
		}
	}
}

// schemaFields merges allOf parts and follows refs: the properties and the
// required names of an object schema.
func schemaFields(t *testing.T, doc node, schema node) (node, []string) {
	t.Helper()
	schema, _ = resolve(t, doc, schema)
	props := node{}
	var req []string
	if all, ok := schema["allOf"].([]any); ok {
		for _, part := range all {
			p, r := schemaFields(t, doc, part.(node))
			for k, v := range p {
				props[k] = v
			}
			req = append(req, r...)
		}
	}
	if p, ok := schema["properties"].(node); ok {
		for k, v := range p {
			props[k] = v
		}
	}
	if r, ok := schema["required"].([]any); ok {
		for _, v := range r {
			req = append(req, v.(string))
		}
	}
	return props, req
}

var timeType = reflect.TypeOf(time.Time{})

// goFields lists a struct's JSON fields (embedded structs flattened) and the
// required ones (no omitempty), as the decoder sees them.
func goFields(t reflect.Type) (map[string]reflect.Type, []string) {
	fields := map[string]reflect.Type{}
	var req []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			sub, r := goFields(f.Type)
			for k, v := range sub {
				fields[k] = v
			}
			req = append(req, r...)
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fields[name] = f.Type
		if !strings.Contains(opts, "omitempty") {
			req = append(req, name)
		}
	}
	return fields, req
}

func jsonSchemaType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType, t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number"
	case t.Kind() == reflect.Slice:
		return "array"
	}
	return "object"
}

// compareFields checks that a schema and a Go struct have the same fields,
// the same required fields and the same JSON types, recursively.
func compareFields(t *testing.T, doc node, where string, gt reflect.Type, props node, req []string) {
	t.Helper()
	fields, goReq := goFields(gt)
	for name := range fields {
		if _, ok := props[name]; !ok {
			t.Errorf("%s.%s is in Go (%s) but not in asyncapi.yaml", where, name, gt.Name())
		}
	}
	for name := range props {
		if _, ok := fields[name]; !ok {
			t.Errorf("%s.%s is in asyncapi.yaml but not in Go (%s)", where, name, gt.Name())
		}
	}
	sort.Strings(req)
	sort.Strings(goReq)
	if !slices.Equal(req, goReq) {
		t.Errorf("%s required: asyncapi.yaml %v, Go %v", where, req, goReq)
	}
	for name, ft := range fields {
		p, ok := props[name].(node)
		if !ok {
			continue
		}
		p, _ = resolve(t, doc, p)
		want := jsonSchemaType(ft)
		if p["type"] != want {
			t.Errorf("%s.%s: type %v in asyncapi.yaml, %s in Go", where, name, p["type"], want)
			continue
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case want == "object":
			sp, sr := schemaFields(t, doc, p)
			compareFields(t, doc, where+"."+name, ft, sp, sr)
		case want == "array":
			items, _ := resolve(t, doc, getMap(t, p, "items"))
			et := ft.Elem()
			if items["type"] != jsonSchemaType(et) {
				t.Errorf("%s.%s[]: type %v in asyncapi.yaml, %s in Go", where, name, items["type"], jsonSchemaType(et))
			} else if et.Kind() == reflect.Struct {
				sp, sr := schemaFields(t, doc, items)
				compareFields(t, doc, where+"."+name+"[]", et, sp, sr)
			}
		}
	}
}

// readme returns the project's README.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The README's topic table says what the AsyncAPI document says: the same
// topics, and for each the QoS and retain flag of the Go contract.
func TestReadmeTopicTableMatchesGo(t *testing.T) {
	text := readme(t)
	start := strings.Index(text, "| topic | from → to | QoS / retained | what |")
	if start < 0 {
		t.Fatal("README.md has no topic table")
	}
	rows := map[topics.Kind]string{}
	for _, line := range strings.Split(text[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) < 5 {
			t.Fatalf("README topic table row %q", line)
		}
		topic := strings.Trim(strings.TrimSpace(cells[1]), "`")
		tp, err := topics.Parse(strings.ReplaceAll(topic, "{id}", "r1"))
		if err != nil {
			t.Errorf("README topic %q: %v", topic, err)
			continue
		}
		rows[tp.Kind] = strings.TrimSpace(cells[3])
	}
	for _, k := range allKinds() {
		qos, ok := rows[k]
		if !ok {
			t.Errorf("README topic table lacks %s", k)
			continue
		}
		p := topics.PolicyOf(k)
		if !strings.HasPrefix(qos, fmt.Sprint(p.QoS)) {
			t.Errorf("README says QoS %q for %s, the contract %d", qos, k, p.QoS)
		}
		if strings.Contains(qos, "retained") != p.Retained {
			t.Errorf("README says %q for %s, the contract retained=%v", qos, k, p.Retained)
		}
	}
	if len(rows) != len(allKinds()) {
		t.Errorf("README topic table has %d topics, the contract %d", len(rows), len(allKinds()))
	}
}

// The README's list of robot rules names exactly the AsyncAPI document's
// x-robot-rules, in the same order.
func TestReadmeRobotRulesMatchAsyncAPI(t *testing.T) {
	doc := loadSpec(t)
	var spec []string
	for _, r := range get(t, doc, "info", "x-robot-rules").([]any) {
		spec = append(spec, r.(node)["id"].(string))
	}
	text := readme(t)
	start := strings.Index(text, "### Writing your own robot")
	if start < 0 {
		t.Fatal("README.md has no section Writing your own robot")
	}
	var inReadme []string
	for _, line := range strings.Split(text[start:], "\n") {
		if id, ok := strings.CutPrefix(line, "- **"); ok {
			inReadme = append(inReadme, id[:strings.Index(id, "**")])
		} else if strings.HasPrefix(line, "### ") && len(inReadme) > 0 {
			break
		}
	}
	if !slices.Equal(spec, inReadme) {
		t.Errorf("robot rules differ:\n  asyncapi.yaml %v\n  README.md     %v", spec, inReadme)
	}
}
