package topics

import (
	"encoding/json"
	"fmt"
	"time"
)

// Message is implemented by every payload type of the contract.
type Message interface {
	Validate() error
	TopicKind() Kind // the kind of topic it travels on
}

// kinds holds each kind's message: the name its errors start with, and its
// decoder. A new kind, say a heartbeat on robots/{id}/heartbeat, needs
//   - its Kind in topic.go, in RobotKinds (or FixedKinds), and its Policy;
//   - its struct in messages.go, Header embedded, and its Validate;
//   - its schema in fields.go, the struct's json tags in struct order:
//     message[Heartbeat]("heartbeat", str("state", func(m *Heartbeat) *string
//     { return &m.State }, RobotStates...), uinteger("epoch,omitempty", ...));
//   - a line here, KindHeartbeat: info(heartbeatSchema), and a
//     DecodeHeartbeat below;
//   - in the tests a valid payload, its fuzzer, its oracle name, and its
//     channel in asyncapi.yaml.
//
// The tests fail until each is there.
var kinds = map[Kind]kindInfo{
	KindStatus:                info(statusSchema),
	KindPose:                  info(poseSchema),
	KindSightings:             info(sightingsSchema),
	KindCheckpoint:            info(checkpointSchema),
	KindEvents:                info(eventSchema),
	KindHeartbeat:             info(heartbeatSchema),
	KindCmd:                   info(directiveSchema),
	KindFleetCmd:              info(fleetCommandSchema),
	KindFleetMap:              info(fleetMapSchema),
	KindOrchestratorStatus:    info(orchestratorStateSchema),
	KindOrchestratorHeartbeat: info(orchestratorHeartbeatSchema),
	KindSimWorld:              info(worldSchema),
}

type kindInfo struct {
	name   string
	new    func() Message
	decode func(payload []byte, robot string) (Message, *Header, error)
	schema describer
}

func info[T any, P interface {
	*T
	Message
}](s *schema[T]) kindInfo {
	return kindInfo{
		name:   s.name,
		schema: s,
		new:    func() Message { return P(new(T)) },
		decode: func(b []byte, robot string) (Message, *Header, error) {
			m, err := decode[T, P](s, b, robot)
			if err != nil {
				return nil, nil, err
			}
			return P(m), s.header(m), nil
		},
	}
}

// New returns a pointer to an empty message of the kind's type.
func New(k Kind) (Message, error) {
	ki, ok := kinds[k]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", k)
	}
	return ki.new(), nil
}

// Decode decodes and validates a payload of the given kind.
func Decode(k Kind, payload []byte) (Message, error) {
	ki, ok := kinds[k]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", k)
	}
	m, _, err := ki.decode(payload, "")
	return m, err
}

// DecodeTopic parses the topic, decodes its payload, and checks that a robot
// topic's sender is the robot the topic names (the orchestrator sends cmd).
func DecodeTopic(topic string, payload []byte) (Topic, Message, error) {
	t, err := Parse(topic)
	if err != nil {
		return t, nil, err
	}
	ki, ok := kinds[t.Kind]
	if !ok {
		return t, nil, fmt.Errorf("unknown kind %q", t.Kind)
	}
	m, h, err := ki.decode(payload, t.Robot)
	if err != nil {
		return t, nil, err
	}
	if t.Robot != "" && t.Kind != KindCmd && h.Sender != t.Robot {
		return t, nil, &FieldError{Message: ki.name, Field: "sender",
			Problem: fmt.Sprintf("must be the topic's robot %q, got %q", t.Robot, h.Sender)}
	}
	return t, m, nil
}

// HeaderOf returns the header of any message of the contract (the zero
// Header for anything else).
func HeaderOf(m Message) Header {
	if h, ok := m.(interface{ header() *Header }); ok {
		return *h.header()
	}
	return Header{}
}

// DecodeStatus decodes and validates robots/{id}/status.
func DecodeStatus(b []byte) (*Status, error) { return decode[Status](statusSchema, b, "") }

// DecodePose decodes and validates robots/{id}/pose.
func DecodePose(b []byte) (*Pose, error) { return decode[Pose](poseSchema, b, "") }

// DecodeSightings decodes and validates robots/{id}/sightings.
func DecodeSightings(b []byte) (*Sightings, error) { return decode[Sightings](sightingsSchema, b, "") }

// DecodeCheckpoint decodes and validates robots/{id}/checkpoint.
func DecodeCheckpoint(b []byte) (*Checkpoint, error) {
	return decode[Checkpoint](checkpointSchema, b, "")
}

// DecodeEvent decodes and validates robots/{id}/events.
func DecodeEvent(b []byte) (*Event, error) { return decode[Event](eventSchema, b, "") }

// DecodeHeartbeat decodes and validates robots/{id}/heartbeat.
func DecodeHeartbeat(b []byte) (*Heartbeat, error) { return decode[Heartbeat](heartbeatSchema, b, "") }

// DecodeDirective decodes and validates robots/{id}/cmd.
func DecodeDirective(b []byte) (*Directive, error) { return decode[Directive](directiveSchema, b, "") }

// DecodeFleetCommand decodes and validates fleet/cmd.
func DecodeFleetCommand(b []byte) (*FleetCommand, error) {
	return decode[FleetCommand](fleetCommandSchema, b, "")
}

// DecodeFleetMap decodes and validates fleet/map.
func DecodeFleetMap(b []byte) (*FleetMap, error) { return decode[FleetMap](fleetMapSchema, b, "") }

// DecodeOrchestratorState decodes and validates orchestrator/status.
func DecodeOrchestratorState(b []byte) (*OrchestratorState, error) {
	return decode[OrchestratorState](orchestratorStateSchema, b, "")
}

// DecodeOrchestratorHeartbeat decodes and validates orchestrator/heartbeat.
func DecodeOrchestratorHeartbeat(b []byte) (*OrchestratorHeartbeat, error) {
	return decode[OrchestratorHeartbeat](orchestratorHeartbeatSchema, b, "")
}

// DecodeWorld decodes and validates sim/world.
func DecodeWorld(b []byte) (*World, error) { return decode[World](worldSchema, b, "") }

// Encode validates a message and marshals it. Nothing invalid is ever sent.
func Encode(m Message) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPayload {
		return nil, fmt.Errorf("encoded payload is %d bytes, over the %d byte limit", len(b), MaxPayload)
	}
	return b, nil
}

// Stamp fills a header: contract version, sender, seq and the UTC time.
func Stamp(sender string, seq uint64, now time.Time) Header {
	return Header{V: Version, Sender: sender, Seq: seq, TS: now.UTC()}
}
