package broker

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a publish is dropped, or a connection refused. They are the values
// of the "reason" label.
const (
	DropReadOnly       = "read_only"        // observer, operator or anonymous published
	DropForeignTopic   = "foreign_topic"    // robot published outside its own topics
	DropInvalidPayload = "invalid_payload"  // payload failed topics.DecodeTopic
	DropUnknownUser    = "unknown_user"     // user removed since it connected
	DropWillRefused    = "will_refused"     // last will stripped at connect
	DropSubscribe      = "subscribe_denied" // subscription filter refused
	DropTooLarge       = "packet_too_large" // packet over MaxPacketSize: connection closed
	DropNotAccepted    = "not_accepted"     // the orchestrator could not take it (store failure): left unacknowledged
	// DropRetainFlag: a robot's retained publish of a kind the contract does
	// not retain. The message is delivered and taken; only the retain flag
	// is dropped, so that it is never replayed as news.
	DropRetainFlag = "retain_flag_dropped"

	RefuseBadCredentials = "bad_credentials"    // unknown user or wrong password
	RefuseAnonymous      = "anonymous"          // no username, anonymous watch off
	RefuseClientID       = "client_id_mismatch" // robot id or reserved id misused
)

var dropReasons = []string{DropReadOnly, DropForeignTopic, DropInvalidPayload, DropUnknownUser,
	DropWillRefused, DropSubscribe, DropTooLarge, DropNotAccepted, DropRetainFlag}

// robotDropReasons are the drops a robot's own publishes and subscriptions
// can cause: each robot account has these series from the start.
var robotDropReasons = []string{DropForeignTopic, DropInvalidPayload, DropWillRefused, DropSubscribe,
	DropTooLarge, DropNotAccepted, DropRetainFlag}

// Values of the drops' "robot" label besides the robot accounts' ids. The
// label's values are bounded: the credentials' robot accounts (at most
// MaxRobotLabels of them), and these two.
const (
	LabelNotRobot   = "none"  // the client is not a robot: observer, operator, anonymous
	LabelOtherRobot = "other" // a user no longer in the credentials, or a robot beyond MaxRobotLabels
)

// MaxRobotLabels bounds the robot ids that get series of their own; robots
// beyond it count as LabelOtherRobot.
const MaxRobotLabels = 256

var refuseReasons = []string{RefuseBadCredentials, RefuseAnonymous, RefuseClientID}

// counters keeps the counts for tests and for the Prometheus collectors.
type counters struct {
	mu      sync.Mutex
	drops   map[string]uint64
	refused map[string]uint64
	robots  map[string]bool // robot ids with series of their own

	dropVec    *prometheus.CounterVec
	refusedVec *prometheus.CounterVec
}

func newCounters(reg prometheus.Registerer, info func() (dropped, inflightDropped, connected int64)) (*counters, error) {
	c := &counters{
		drops:   map[string]uint64{},
		refused: map[string]uint64{},
		robots:  map[string]bool{},
		dropVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "collaborate_broker_drops_total",
			Help: "Publishes (and subscriptions) acknowledged and dropped by the broker, by reason and by robot: a robot account's id, none for other roles, other for unknown users.",
		}, []string{"reason", "robot"}),
		refusedVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "collaborate_broker_refused_connections_total",
			Help: "Connections refused by the broker, by reason.",
		}, []string{"reason"}),
	}
	for _, r := range dropReasons {
		c.dropVec.WithLabelValues(r, LabelNotRobot)
		c.dropVec.WithLabelValues(r, LabelOtherRobot)
	}
	for _, r := range refuseReasons {
		c.refusedVec.WithLabelValues(r)
	}
	if reg == nil {
		return c, nil
	}
	collectors := []prometheus.Collector{c.dropVec, c.refusedVec,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "collaborate_broker_messages_dropped_total",
			Help: "Messages mochi dropped because a client's write queue was full.",
		}, func() float64 { d, _, _ := info(); return float64(d) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "collaborate_broker_inflight_dropped_total",
			Help: "QoS>0 messages mochi dropped because a client's inflight store was full.",
		}, func() float64 { _, d, _ := info(); return float64(d) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "collaborate_broker_clients_connected",
			Help: "Clients connected to the broker.",
		}, func() float64 { _, _, n := info(); return float64(n) }),
	}
	for _, col := range collectors {
		if err := reg.Register(col); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
			// A broker restarted in the same process: count on the
			// collectors already registered.
			switch col {
			case c.dropVec:
				c.dropVec = are.ExistingCollector.(*prometheus.CounterVec)
			case c.refusedVec:
				c.refusedVec = are.ExistingCollector.(*prometheus.CounterVec)
			}
		}
	}
	return c, nil
}

// setRobots gives the robot accounts their series, at zero until a drop,
// so that a robot's own drops can be found (and alerted on) from the start.
// The set only grows: a robot removed from the credentials keeps its
// series.
func (c *counters) setRobots(ids []string) {
	c.mu.Lock()
	var added []string
	for _, id := range ids {
		if !c.robots[id] && len(c.robots) < MaxRobotLabels {
			c.robots[id] = true
			added = append(added, id)
		}
	}
	vec := c.dropVec
	c.mu.Unlock()
	for _, id := range added {
		for _, r := range robotDropReasons {
			vec.WithLabelValues(r, id)
		}
	}
}

// robotLabel is the "robot" label of a client: its id for a robot account,
// LabelNotRobot for the other roles, LabelOtherRobot for anything else.
func (c *counters) robotLabel(role Role, name string) string {
	switch role {
	case RoleRobot:
		// A robot account added to the credentials in place since
		// (orchestrator --sim adds its robots) gets its series now.
		c.setRobots([]string{name})
		c.mu.Lock()
		known := c.robots[name]
		c.mu.Unlock()
		if known {
			return name
		}
		return LabelOtherRobot
	case RoleOrchestrator, RoleObserver, RoleOperator, roleAnonymous:
		return LabelNotRobot
	}
	return LabelOtherRobot
}

func (c *counters) drop(reason, robot string) {
	c.mu.Lock()
	c.drops[reason]++
	c.mu.Unlock()
	c.dropVec.WithLabelValues(reason, robot).Inc()
}

func (c *counters) refuse(reason string) {
	c.mu.Lock()
	c.refused[reason]++
	c.mu.Unlock()
	c.refusedVec.WithLabelValues(reason).Inc()
}

func snapshot(mu *sync.Mutex, m map[string]uint64) map[string]uint64 {
	mu.Lock()
	defer mu.Unlock()
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
