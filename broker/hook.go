package broker

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"collaborate/topics"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/rs/zerolog"
)

// InlineClientID is mochi's id for the in-process client; no network client
// may use it.
const InlineClientID = mqtt.InlineClientId

// anonymous is the role of a client without a username when anonymous
// watching is allowed.
const roleAnonymous Role = "anonymous"

// guard is our authentication, ACL and validation hook. mochi's own auth
// ledger allows what no rule matches; this hook denies it.
type guard struct {
	mqtt.HookBase

	creds     atomic.Pointer[Credentials]
	anonWatch bool
	log       zerolog.Logger
	count     *counters
	clients   *mqtt.Clients // the server's, to find a session being taken over

	online, offline func(id string)
	accept          func(Inbound) error

	mu      sync.Mutex
	current map[string]*mqtt.Client // robot id -> its live connection
}

func (g *guard) ID() string { return "collaborate-guard" }

func (g *guard) Provides(b byte) bool {
	return bytes.Contains([]byte{
		mqtt.OnConnectAuthenticate,
		mqtt.OnACLCheck,
		mqtt.OnPublish,
		mqtt.OnSubscribe,
		mqtt.OnSessionEstablish,
		mqtt.OnSessionEstablished,
		mqtt.OnWillSent,
		mqtt.OnDisconnect,
	}, []byte{b})
}

// roleOf returns the role of a client from the current credentials. It also
// serves clients restored from the store, which never authenticated in this
// run.
func (g *guard) roleOf(cl *mqtt.Client) (Role, bool) {
	name := string(cl.Properties.Username)
	if name == "" {
		if g.anonWatch {
			return roleAnonymous, true
		}
		return "", false
	}
	u, ok := g.creds.Load().Lookup(name)
	return u.Role, ok
}

func (g *guard) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	name := string(pk.Connect.Username)
	refuse := func(reason, why string) bool {
		g.count.refuse(reason)
		g.log.Warn().Str("client", cl.ID).Str("user", name).Str("remote", cl.Net.Remote).
			Str("reason", reason).Msg("connection refused: " + why)
		return false
	}
	if cl.ID == InlineClientID {
		return refuse(RefuseClientID, "client id is reserved")
	}
	creds := g.creds.Load()
	var role Role
	if name == "" {
		if !g.anonWatch {
			return refuse(RefuseAnonymous, "anonymous clients are not allowed")
		}
		role = roleAnonymous
	} else {
		u, ok := creds.Verify(name, pk.Connect.Password)
		if !ok {
			return refuse(RefuseBadCredentials, "unknown user or wrong password")
		}
		role = u.Role
	}
	if role == RoleRobot && cl.ID != name {
		return refuse(RefuseClientID, "a robot's client id must be its username")
	}
	if role != RoleRobot {
		// Only a robot may use a robot's client id: another user would take
		// over its session and kick it off.
		if u, ok := creds.Lookup(cl.ID); ok && u.Role == RoleRobot {
			return refuse(RefuseClientID, "client id belongs to robot "+cl.ID)
		}
	}
	if atomic.LoadUint32(&cl.Properties.Will.Flag) == 1 {
		w := cl.Properties.Will
		reason, why, _, _ := g.checkPublish(role, name, w.TopicName, w.Payload, w.Retain)
		if reason == "" && role == RoleRobot {
			reason, why = checkRobotWill(name, w.TopicName, w.Payload)
		}
		if reason != "" {
			// A will bypasses OnPublish: check it now, and strip it
			// rather than refuse, as for a publish.
			atomic.StoreUint32(&cl.Properties.Will.Flag, 0)
			g.count.drop(DropWillRefused, g.count.robotLabel(role, name))
			g.log.Warn().Str("client", cl.ID).Str("topic", w.TopicName).Str("reason", reason).
				Msg("last will stripped: " + why)
		}
	}
	return true
}

// checkPublish decides whether role may publish payload on topic; it returns
// the drop reason and why, or "" to allow, with the decoded message of a
// contract topic (the one decode of it).
func (g *guard) checkPublish(role Role, user, topic string, payload []byte, retain bool) (string, string, topics.Topic, topics.Message) {
	if n, ok := tooLarge(payload); ok {
		return DropTooLarge, fmt.Sprintf("packet of %d bytes is over the broker's limit; its payload was discarded", n), topics.Topic{}, nil
	}
	switch role {
	case RoleOrchestrator:
		if _, err := topics.Parse(topic); err != nil {
			return "", "", topics.Topic{}, nil // not a contract topic: free for the orchestrator role
		}
		if retain && len(payload) == 0 {
			return "", "", topics.Topic{}, nil // clears a retained message
		}
	case RoleRobot:
		t, err := topics.Parse(topic)
		if err != nil || t.Robot != user || !robotPublishes(t.Kind) {
			return DropForeignTopic, "robot " + user + " may publish only its own robot topics", topics.Topic{}, nil
		}
	case RoleObserver, RoleOperator, roleAnonymous:
		return DropReadOnly, "role " + string(role) + " is read-only", topics.Topic{}, nil
	default:
		return DropUnknownUser, "user " + user + " is no longer in the credentials", topics.Topic{}, nil
	}
	t, msg, err := topics.DecodeTopic(topic, payload)
	if err != nil {
		return DropInvalidPayload, err.Error(), t, nil
	}
	return "", "", t, msg
}

// checkRobotWill allows a robot only the last will the contract gives it:
// its own status, state offline. The will is published by the broker on the
// robot's behalf and tells the orchestrator the robot is gone, so anything
// else (another state) would be a message the robot never sent at that time.
func checkRobotWill(robot, topic string, payload []byte) (string, string) {
	if topic != topics.Robot(robot, topics.KindStatus) {
		return DropWillRefused, "a robot's last will must be on its own status topic"
	}
	st, err := topics.DecodeStatus(payload)
	if err != nil || st.State != topics.StateOffline {
		return DropWillRefused, "a robot's last will must be its status with state offline"
	}
	return "", ""
}

func robotPublishes(k topics.Kind) bool {
	for _, p := range topics.RobotPublishes {
		if p == k {
			return true
		}
	}
	return false
}

// OnACLCheck allows every write: writes are judged in OnPublish, where a
// refusal can be acknowledged and dropped. mochi disconnects a 3.1.1 client
// whose QoS 1 publish fails this check, and paho then replays it forever.
func (g *guard) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if write || cl.Net.Inline {
		return true
	}
	role, ok := g.roleOf(cl)
	if !ok {
		return false
	}
	if role != RoleRobot {
		return true // everyone else reads everything
	}
	return robotMayRead(cl.ID, topic)
}

// robotMayRead applies to topics and to subscription filters alike: the
// filters it allows match only the topics it allows. A robot reads its own
// directives, the fleet and orchestrator topics, and the peer view: every
// robot's status and heartbeat (state, progress, position), never another
// robot's directives.
func robotMayRead(id, topicOrFilter string) bool {
	switch {
	case topicOrFilter == topics.Robot(id, topics.KindCmd):
		return true
	case topicOrFilter == topics.TopicOrchestratorStatus, topicOrFilter == topics.TopicOrchestratorHeartbeat:
		return true
	case strings.HasPrefix(topicOrFilter, "fleet/"):
		return true
	}
	parts := strings.Split(topicOrFilter, "/")
	if len(parts) != 3 || parts[0] != "robots" || (parts[1] != "+" && !topics.ValidRobotID(parts[1])) {
		return false
	}
	k := topics.Kind(parts[2])
	return k == topics.KindStatus || k == topics.KindHeartbeat
}

// OnSubscribe only logs and counts the filters that OnACLCheck will refuse.
func (g *guard) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if cl.Net.Inline {
		return pk
	}
	role, _ := g.roleOf(cl)
	for _, f := range pk.Filters {
		if !g.OnACLCheck(cl, f.Filter, false) {
			g.count.drop(DropSubscribe, g.count.robotLabel(role, string(cl.Properties.Username)))
			g.log.Warn().Str("client", cl.ID).Str("topic", f.Filter).Str("reason", DropSubscribe).
				Msg("subscription refused")
		}
	}
	return pk
}

// OnPublish acknowledges and drops (CodeSuccessIgnore) what the sender may
// not publish or what fails the contract's decoder.
func (g *guard) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	role, ok := g.roleOf(cl)
	if !ok {
		role = ""
	}
	reason, why, t, msg := g.checkPublish(role, string(cl.Properties.Username), pk.TopicName, pk.Payload, pk.FixedHeader.Retain)
	if reason == "" {
		if role == RoleRobot && g.accept != nil {
			if err := g.accept(Inbound{Topic: t, Msg: msg, Payload: pk.Payload}); err != nil {
				g.count.drop(DropNotAccepted, g.count.robotLabel(role, string(cl.Properties.Username)))
				g.log.Error().Err(err).Str("client", cl.ID).Str("topic", pk.TopicName).
					Msg("publish not accepted by the orchestrator: left unacknowledged for the robot to resend")
				// mochi acknowledges and delivers a 3.1.1 publish whatever
				// error code OnPublish returns: reject the packet (no PUBACK,
				// no delivery) and close the connection, so that the robot
				// resends it from its outbox after reconnecting.
				cl.Stop(fmt.Errorf("publish on %s not accepted: %w", pk.TopicName, err))
				return pk, packets.ErrRejectPacket
			}
		}
		if role == RoleRobot && pk.FixedHeader.Retain && !topics.PolicyOf(t.Kind).Retained {
			// Retained, it would be replayed to every new subscriber (an
			// orchestrator on another broker, a watcher) as if new.
			pk.FixedHeader.Retain = false
			g.count.drop(DropRetainFlag, g.count.robotLabel(role, string(cl.Properties.Username)))
			g.log.Warn().Str("client", cl.ID).Str("topic", pk.TopicName).Str("reason", DropRetainFlag).
				Msg("publish taken, not retained: the contract does not retain " + string(t.Kind))
		}
		return pk, nil
	}
	g.count.drop(reason, g.count.robotLabel(role, string(cl.Properties.Username)))
	g.log.Warn().Str("client", cl.ID).Str("topic", pk.TopicName).Str("reason", reason).
		Msg("publish dropped: " + why)
	if cl.Properties.ProtocolVersion == 5 && pk.FixedHeader.Qos == 1 {
		// An MQTT 5 client can be told why: mochi answers with a PUBACK
		// carrying the code, and the client does not send it again. (At
		// QoS 0 nothing answers, and mochi would deliver a packet whose
		// error is not CodeSuccessIgnore; at QoS 2 it would answer PUBACK
		// instead of PUBREC.)
		return pk, dropCode(reason)
	}
	return pk, packets.CodeSuccessIgnore
}

// dropCode is the MQTT 5 reason code that tells a client why its publish
// was dropped.
func dropCode(reason string) packets.Code {
	switch reason {
	case DropInvalidPayload:
		return packets.ErrPayloadFormatInvalid
	case DropTooLarge:
		return packets.ErrPacketTooLarge
	}
	return packets.ErrNotAuthorized
}

// OnSessionEstablish runs after authentication and before mochi takes over
// an existing session with the same client id. Clearing the old
// connection's will here means its disconnect cannot publish "offline" over
// the new connection's status; recording the new connection means the old
// one's late OnDisconnect is not reported.
func (g *guard) OnSessionEstablish(cl *mqtt.Client, pk packets.Packet) {
	if old, ok := g.clients.Get(cl.ID); ok && old != cl {
		atomic.StoreUint32(&old.Properties.Will.Flag, 0)
	}
	if role, _ := g.roleOf(cl); role == RoleRobot {
		g.mu.Lock()
		g.current[cl.ID] = cl
		g.mu.Unlock()
	}
}

func (g *guard) OnSessionEstablished(cl *mqtt.Client, pk packets.Packet) {
	g.mu.Lock()
	live := g.current[cl.ID] == cl
	g.mu.Unlock()
	if live && g.online != nil {
		g.online(cl.ID)
	}
}

// OnWillSent hands a robot's last will to the orchestrator, as any publish
// of the robot: a will bypasses OnPublish. It was checked at CONNECT (its
// own status, state offline). Only the live connection's will counts: one
// taken over by a reconnect had its will cleared in OnSessionEstablish, and
// mochi sends a will before OnDisconnect, so a late one is dropped here.
func (g *guard) OnWillSent(cl *mqtt.Client, pk packets.Packet) {
	if g.accept == nil || cl.Net.Inline {
		return
	}
	if role, _ := g.roleOf(cl); role != RoleRobot {
		return
	}
	g.mu.Lock()
	live := g.current[cl.ID] == cl && !cl.IsTakenOver()
	g.mu.Unlock()
	if !live {
		return
	}
	t, msg, err := topics.DecodeTopic(pk.TopicName, pk.Payload) // checked at CONNECT: it decodes
	if err == nil {
		err = g.accept(Inbound{Topic: t, Msg: msg, Payload: pk.Payload, Will: true})
	}
	if err != nil {
		g.log.Error().Err(err).Str("client", cl.ID).Msg("last will not accepted by the orchestrator")
	}
}

func (g *guard) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
	if errors.Is(err, packets.ErrPacketTooLarge) {
		role, _ := g.roleOf(cl)
		g.count.drop(DropTooLarge, g.count.robotLabel(role, string(cl.Properties.Username)))
		g.log.Warn().Str("client", cl.ID).Str("reason", DropTooLarge).Msg("packet over the size limit: connection closed")
	}
	g.mu.Lock()
	live := g.current[cl.ID] == cl && !cl.IsTakenOver()
	if live {
		delete(g.current, cl.ID)
	}
	g.mu.Unlock()
	if live && g.offline != nil {
		g.offline(cl.ID)
	}
}
