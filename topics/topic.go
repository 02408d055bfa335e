package topics

import (
	"fmt"
	"strings"
)

// Version is the contract version carried in every header. A receiver
// rejects a payload with a higher major version than its own.
const Version = 1

// MaxPayload is the largest payload, in bytes, that any decoder accepts.
const MaxPayload = 16 * 1024

// Kind names a kind of topic. Robot kinds live under robots/{id}/; the others
// are fixed topics.
type Kind string

// Robot topic kinds: robots/{id}/{kind}.
const (
	KindStatus     Kind = "status"
	KindPose       Kind = "pose"
	KindSightings  Kind = "sightings"
	KindCheckpoint Kind = "checkpoint"
	KindEvents     Kind = "events"
	KindHeartbeat  Kind = "heartbeat"
	KindCmd        Kind = "cmd"
)

// Fixed topics. Their Kind is the topic itself.
const (
	TopicFleetCmd              = "fleet/cmd"
	TopicFleetMap              = "fleet/map"
	TopicOrchestratorStatus    = "orchestrator/status"
	TopicOrchestratorHeartbeat = "orchestrator/heartbeat"
	TopicSimWorld              = "sim/world"

	KindFleetCmd              Kind = TopicFleetCmd
	KindFleetMap              Kind = TopicFleetMap
	KindOrchestratorStatus    Kind = TopicOrchestratorStatus
	KindOrchestratorHeartbeat Kind = TopicOrchestratorHeartbeat
	KindSimWorld              Kind = TopicSimWorld
)

// RobotKinds are the kinds under robots/{id}/, in the order of the design.
var RobotKinds = []Kind{KindStatus, KindPose, KindSightings, KindCheckpoint, KindEvents, KindHeartbeat, KindCmd}

// FixedKinds are the topics that belong to no single robot.
var FixedKinds = []Kind{KindFleetCmd, KindFleetMap, KindOrchestratorStatus, KindOrchestratorHeartbeat, KindSimWorld}

// RobotPublishes are the kinds a robot may publish, each on its own id only.
var RobotPublishes = []Kind{KindStatus, KindPose, KindSightings, KindCheckpoint, KindEvents, KindHeartbeat}

// Policy is how a topic is published.
type Policy struct {
	QoS      byte
	Retained bool
}

var policies = map[Kind]Policy{
	KindStatus:     {QoS: 1, Retained: true},
	KindPose:       {QoS: 0},
	KindSightings:  {QoS: 0},
	KindCheckpoint: {QoS: 1},
	KindEvents:     {QoS: 1},
	KindHeartbeat:  {QoS: 0},
	KindCmd:        {QoS: 1, Retained: true},
	// Retained so that a robot that (re)connects during a fleet stop hears
	// it: the stop stays until a resume replaces it.
	KindFleetCmd:              {QoS: 1, Retained: true},
	KindFleetMap:              {QoS: 1, Retained: true},
	KindOrchestratorStatus:    {QoS: 1, Retained: true},
	KindOrchestratorHeartbeat: {QoS: 0},
	KindSimWorld:              {QoS: 0},
}

// PolicyOf returns the QoS and retain flag of a kind.
func PolicyOf(k Kind) Policy { return policies[k] }

// ValidRobotID reports whether id may name a robot: [A-Za-z0-9_-]{1,32}.
func ValidRobotID(id string) bool {
	if len(id) < 1 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// CheckRobotID returns a descriptive error when id is not a valid robot id.
func CheckRobotID(id string) error {
	if !ValidRobotID(id) {
		return fmt.Errorf("robot id %q must match [A-Za-z0-9_-]{1,32}", id)
	}
	return nil
}

// Robot builds robots/{id}/{kind}. It panics on an invalid id or a kind that
// is not a robot kind: both are programming errors, ids from outside are
// checked with CheckRobotID first.
func Robot(id string, k Kind) string {
	if !ValidRobotID(id) || !isRobotKind(k) {
		panic(fmt.Sprintf("topics.Robot(%q, %q): invalid id or kind", id, k))
	}
	return "robots/" + id + "/" + string(k)
}

// RobotFilter is the subscription filter for one kind from every robot,
// e.g. robots/+/pose.
func RobotFilter(k Kind) string { return "robots/+/" + string(k) }

// Topic is a parsed topic name.
type Topic struct {
	Robot string // empty for fixed topics
	Kind  Kind
}

// String builds the topic name back.
func (t Topic) String() string {
	if t.Robot == "" {
		return string(t.Kind)
	}
	return Robot(t.Robot, t.Kind)
}

// Parse splits a topic name into robot id and kind. It rejects anything that
// is not a topic of the contract.
func Parse(topic string) (Topic, error) {
	for _, k := range FixedKinds {
		if topic == string(k) {
			return Topic{Kind: k}, nil
		}
	}
	rest, ok := strings.CutPrefix(topic, "robots/")
	id, kind, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || strings.Contains(kind, "/") {
		return Topic{}, fmt.Errorf("topic %q is not part of the contract", topic)
	}
	if !ValidRobotID(id) {
		return Topic{}, fmt.Errorf("topic %q: robot id %q must match [A-Za-z0-9_-]{1,32}", topic, id)
	}
	k := Kind(kind)
	if !isRobotKind(k) {
		return Topic{}, fmt.Errorf("topic %q: unknown kind %q", topic, kind)
	}
	return Topic{Robot: id, Kind: k}, nil
}

func isRobotKind(k Kind) bool {
	for _, r := range RobotKinds {
		if r == k {
			return true
		}
	}
	return false
}
