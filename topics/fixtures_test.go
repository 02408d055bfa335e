package topics_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"collaborate/topics"
)

// validPayloads holds one valid payload per kind, with every optional field
// set, so that mutations of it exercise every field.
var validPayloads = map[topics.Kind]string{
	topics.KindStatus: `{"v":1,"sender":"r1","seq":7,"ts":"2026-11-26T23:00:00Z","state":"moving",` +
		`"version":"0.1.0","faces":{"front":100,"left":101,"back":102,"right":103},` +
		`"epoch":3,"cmd_seq":12,"step":1,"target":5}`,
	topics.KindPose: `{"v":1,"sender":"r1","seq":42,"ts":"2026-11-26T23:00:00.25Z","state":"moving",` +
		`"target":5,"distance_m":1.25,"x_m":0.5,"y_m":-0.25,"theta_rad":1.5,"speed_mps":0.2,"step":1}`,
	topics.KindSightings: `{"v":1,"sender":"r1","seq":9,"ts":"2026-11-26T23:00:00Z","heading_rad":0.5,"seen":[` +
		`{"id":5,"kind":"arena","distance_m":1.2,"bearing_rad":0.1},` +
		`{"id":105,"kind":"face","robot":"r2","face":"left","distance_m":0.6,"bearing_rad":-0.3}]}`,
	topics.KindCheckpoint: `{"v":1,"sender":"r1","seq":2,"ts":"2026-11-26T23:00:00Z","epoch":3,"marker":5,"step":1,"final":false}`,
	topics.KindEvents: `{"v":1,"sender":"r1","seq":4,"ts":"2026-11-26T23:00:00Z","kind":"blocked","other":"r2",` +
		`"face":"front","marker":104,"distance_m":0.4,"detail":"head-on"}`,
	topics.KindHeartbeat: `{"v":1,"sender":"r1","seq":31,"ts":"2026-11-26T23:00:00.5Z","state":"holding",` +
		`"epoch":3,"cmd_seq":14,"route_epoch":3,"route_seq":12,"step":1,"x_m":0.42,"y_m":-1.06,"theta_rad":2.1}`,
	topics.KindCmd: `{"v":1,"sender":"orchestrator","seq":12,"ts":"2026-11-26T23:00:00Z","epoch":3,"kind":"route",` +
		`"route":[5,9,2],"released":2,"step":0,"reason":"mission m1"}`,
	topics.KindFleetCmd: `{"v":1,"sender":"orchestrator","seq":1,"ts":"2026-11-26T23:00:00Z","epoch":3,"kind":"stop"}`,
	topics.KindFleetMap: `{"v":1,"sender":"orchestrator","seq":1,"ts":"2026-11-26T23:00:00Z","diameter_m":3,` +
		`"measured_diameter_m":2.9,"scale":1.0345,"markers":[{"id":0,"x_m":1.5,"y_m":0,"samples":3},` +
		`{"id":1,"x_m":0,"y_m":1.5,"samples":2}],"mapped_by":"r1",` +
		`"roster":[{"robot":"r1","faces":{"front":100,"left":101,"back":102,"right":103}}]}`,
	topics.KindOrchestratorStatus:    `{"v":1,"sender":"orchestrator","seq":1,"ts":"2026-11-26T23:00:00Z","state":"online","epoch":3}`,
	topics.KindOrchestratorHeartbeat: `{"v":1,"sender":"orchestrator","seq":88,"ts":"2026-11-26T23:00:00.2Z","epoch":3}`,
	topics.KindSimWorld: `{"v":1,"sender":"sim","seq":125,"ts":"2026-11-26T23:00:00Z","sim_time_s":12.5,"diameter_m":3,` +
		`"collisions":0,"robots":[{"robot":"r1","x_m":0.1,"y_m":-0.2,"theta_rad":3,"speed_mps":0.15}]}`,
}

// allKinds lists every kind of the contract.
func allKinds() []topics.Kind {
	return append(append([]topics.Kind{}, topics.RobotKinds...), topics.FixedKinds...)
}

// mutate returns base with the value at a dotted path (map keys and array
// indices, e.g. "seen.0.bearing_rad") replaced by the raw JSON literal val,
// or deleted when val is "<delete>".
func mutate(base, path, val string) string {
	d := json.NewDecoder(strings.NewReader(base))
	d.UseNumber()
	var root any
	if err := d.Decode(&root); err != nil {
		panic(err)
	}
	keys := strings.Split(path, ".")
	cur := root
	for i, k := range keys {
		last := i == len(keys)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if val == "<delete>" {
					delete(c, k)
				} else {
					c[k] = json.RawMessage(val)
				}
				continue
			}
			cur = c[k]
		case []any:
			n, err := strconv.Atoi(k)
			if err != nil || n >= len(c) {
				panic(fmt.Sprintf("mutate %s: bad index %q", path, k))
			}
			if last {
				c[n] = json.RawMessage(val)
				continue
			}
			cur = c[n]
		default:
			panic(fmt.Sprintf("mutate %s: cannot descend into %T", path, cur))
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		panic(err)
	}
	return buf.String()
}

// decoders maps each kind to its typed decoder, wrapped to return a Message.
var decoders = map[topics.Kind]func([]byte) (topics.Message, error){
	topics.KindStatus:                wrap(topics.DecodeStatus),
	topics.KindPose:                  wrap(topics.DecodePose),
	topics.KindSightings:             wrap(topics.DecodeSightings),
	topics.KindCheckpoint:            wrap(topics.DecodeCheckpoint),
	topics.KindEvents:                wrap(topics.DecodeEvent),
	topics.KindHeartbeat:             wrap(topics.DecodeHeartbeat),
	topics.KindCmd:                   wrap(topics.DecodeDirective),
	topics.KindFleetCmd:              wrap(topics.DecodeFleetCommand),
	topics.KindFleetMap:              wrap(topics.DecodeFleetMap),
	topics.KindOrchestratorStatus:    wrap(topics.DecodeOrchestratorState),
	topics.KindOrchestratorHeartbeat: wrap(topics.DecodeOrchestratorHeartbeat),
	topics.KindSimWorld:              wrap(topics.DecodeWorld),
}

func wrap[T any, P interface {
	*T
	topics.Message
}](dec func([]byte) (*T, error)) func([]byte) (topics.Message, error) {
	return func(b []byte) (topics.Message, error) {
		m, err := dec(b)
		if err != nil {
			return nil, err
		}
		return P(m), nil
	}
}

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}
