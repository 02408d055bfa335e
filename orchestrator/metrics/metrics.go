package metrics

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"collaborate/orchestrator/ingest"
	"collaborate/topics"
)

// Namespace prefixes every metric of this package.
const Namespace = "collaborate_orchestrator"

// MaxReasons bounds the distinct values of the reject "reason" label,
// OtherLabel included.
const MaxReasons = 32

// OtherLabel is the label value for kinds, reasons or robots outside the
// known set.
const OtherLabel = "other"

// NotRobot is the "robot" label of a reject that is no robot's: a login, a
// control request, a message of the orchestrator's own.
const NotRobot = "none"

// MaxRobots bounds the robot ids that get reject series of their own (the
// credentials' robot accounts); robots beyond it count as OtherLabel.
const MaxRobots = 256

// Reasons of rejects that are no robot's, counted with robot="none" from
// the start.
var otherReasons = []string{"invalid_outgoing", "login", "login_role", "login_rate_limited",
	"cross_origin", "control_unauthenticated"}

// StaleRetained is the reject reason of a robot's message of a kind the
// contract does not retain, replayed retained by an external broker.
const StaleRetained = "stale_retained"

// CoreReason is the reject reason of a robot's message of kind k that the
// decision core refused.
func CoreReason(k topics.Kind) string { return "core_" + string(k) }

// Buckets of the histograms, in seconds.
var (
	// HoldDurationBuckets span a brief yield to a long operator hold.
	HoldDurationBuckets = []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600}
	// HoldLatencyBuckets span the reaction budget: a hold is due within a
	// control tick (50–100 ms) of the pose that revealed the conflict.
	HoldLatencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1}
)

// Metrics holds the orchestrator's collectors.
type Metrics struct {
	reg *prometheus.Registry

	in, out    map[string]prometheus.Counter // by known kind, prebuilt
	inOther    prometheus.Counter
	outOther   prometheus.Counter
	rejects    *prometheus.CounterVec
	mu         sync.Mutex
	reasons    map[string]bool                  // reasons with series
	robots     map[string]bool                  // robot ids with series
	rejectsBy  map[[2]string]prometheus.Counter // (reason, robot)
	online     prometheus.Gauge
	holds      prometheus.Counter
	holdsEnded prometheus.Counter
	holdDur    prometheus.Histogram
	holdLat    prometheus.Histogram
	checkpts   prometheus.Counter
	collisions prometheus.Gauge
	shed       map[string]prometheus.Counter
	lag        prometheus.Histogram
	lastLag    prometheus.Gauge
	backlog    prometheus.Gauge
}

// New builds the collectors on a new private registry, together with the Go
// runtime and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := NewOn(reg)
	if err != nil {
		panic(err) // a fresh registry holds nothing to collide with
	}
	return m
}

// NewOn registers the collectors on an existing registry (one that the
// broker already uses, say); Handler then serves that whole registry. It
// fails when one of them is already registered there.
func NewOn(reg *prometheus.Registry) (*Metrics, error) {
	m := &Metrics{reg: reg, in: map[string]prometheus.Counter{}, out: map[string]prometheus.Counter{},
		reasons: map[string]bool{}, robots: map[string]bool{}, rejectsBy: map[[2]string]prometheus.Counter{}}
	inVec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "messages_in_total",
		Help: "MQTT messages received by the orchestrator, by topic kind.",
	}, []string{"kind"})
	outVec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "messages_out_total",
		Help: "MQTT messages published by the orchestrator, by topic kind.",
	}, []string{"kind"})
	for _, k := range append(append([]topics.Kind{}, topics.RobotKinds...), topics.FixedKinds...) {
		m.in[string(k)] = inVec.WithLabelValues(string(k))
		m.out[string(k)] = outVec.WithLabelValues(string(k))
	}
	m.inOther = inVec.WithLabelValues(OtherLabel)
	m.outOther = outVec.WithLabelValues(OtherLabel)
	m.rejects = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "rejects_total",
		Help: "Messages or requests rejected by the orchestrator, by reason and by robot: a robot account's id, other for any other robot, none for what is no robot's.",
	}, []string{"reason", "robot"})
	// Every series a reject can land in exists from the start, at zero,
	// except those of the robot accounts, which SetRobots adds.
	for _, r := range otherReasons {
		m.counter(r, NotRobot)
	}
	for _, k := range topics.RobotPublishes {
		m.counter(CoreReason(k), OtherLabel)
	}
	m.counter(OtherLabel, NotRobot)
	m.counter(OtherLabel, OtherLabel)
	m.online = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "robots_online",
		Help: "Robots currently online.",
	})
	m.holds = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "holds_issued_total",
		Help: "Hold directives issued (traffic, head-on and operator).",
	})
	m.holdsEnded = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "holds_released_total",
		Help: "Holds released; the difference to holds_issued_total is the holds active.",
	})
	m.holdDur = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "hold_duration_seconds",
		Help:    "How long a robot was held, from hold published to release.",
		Buckets: HoldDurationBuckets,
	})
	m.holdLat = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "hold_reaction_seconds",
		Help:    "Latency from receiving the pose that revealed a conflict to publishing the hold.",
		Buckets: HoldLatencyBuckets,
	})
	m.checkpts = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "checkpoints_total",
		Help: "Checkpoints applied (duplicates excluded).",
	})
	m.collisions = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "sim_collisions",
		Help: "Collisions the simulator counted so far (sim/world; 0 outside --sim).",
	})
	shedVec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "inbox_shed_total",
		Help: "Robot messages the inbox skipped because the core was behind, by reason (a newer pose or heartbeat of the same robot superseded it; the sightings backlog was full).",
	}, []string{"reason"})
	m.shed = map[string]prometheus.Counter{}
	for _, r := range ingest.ShedReasons {
		m.shed[r] = shedVec.WithLabelValues(r)
	}
	m.lag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "inbox_lag_seconds",
		Help:    "Age of each robot message when the core took it, from its arrival at the broker.",
		Buckets: []float64{0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
	})
	m.lastLag = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "inbox_lag_last_seconds",
		Help: "Age of the last robot message the core took: how far behind the core is now.",
	})
	m.backlog = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "inbox_backlog",
		Help: "Robot messages waiting for the core.",
	})
	for _, c := range []prometheus.Collector{inVec, outVec, m.rejects, m.online, m.holds, m.holdsEnded,
		m.holdDur, m.holdLat, m.checkpts, m.collisions, shedVec, m.lag, m.lastLag, m.backlog} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	return m, nil
}

// Registry is the private registry; the broker registers its counters here
// (broker.Options.Registerer).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format at /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// MessageIn counts one message received; kind is a topics.Kind (use
// KindOf(topic) for a raw topic name).
func (m *Metrics) MessageIn(kind topics.Kind) {
	if c, ok := m.in[string(kind)]; ok {
		c.Inc()
		return
	}
	m.inOther.Inc()
}

// MessageOut counts one message published.
func (m *Metrics) MessageOut(kind topics.Kind) {
	if c, ok := m.out[string(kind)]; ok {
		c.Inc()
		return
	}
	m.outOther.Inc()
}

// KindOf is the kind of a topic name, or "other" when it is not a topic of
// the contract.
func KindOf(topic string) topics.Kind {
	t, err := topics.Parse(topic)
	if err != nil {
		return OtherLabel
	}
	return t.Kind
}

// counter returns the series (reason, robot), made on first use; mu is
// held or not yet shared.
func (m *Metrics) counter(reason, robot string) prometheus.Counter {
	if !m.reasons[reason] {
		if len(m.reasons) >= MaxReasons {
			reason = OtherLabel
		}
		m.reasons[reason] = true
	}
	key := [2]string{reason, robot}
	c, ok := m.rejectsBy[key]
	if !ok {
		c = m.rejects.WithLabelValues(reason, robot)
		m.rejectsBy[key] = c
	}
	return c
}

// SetRobots gives robot accounts their reject series, at zero until a
// reject, so that a robot's own rejects can be found from the start: the
// credentials' robot accounts, a bounded set (at most MaxRobots; the set
// only grows). Any other robot counts as OtherLabel.
func (m *Metrics) SetRobots(ids []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		if m.robots[id] || len(m.robots) >= MaxRobots {
			continue
		}
		m.robots[id] = true
		for _, k := range topics.RobotPublishes {
			m.counter(CoreReason(k), id)
		}
		m.counter(StaleRetained, id)
	}
}

// Reject counts one rejection that is no robot's. reason should come from
// a small fixed set ("login", "invalid_outgoing", ...); past MaxReasons
// distinct reasons, the others count as OtherLabel.
func (m *Metrics) Reject(reason string) { m.RejectRobot(reason, NotRobot) }

// RejectRobot counts one rejection of robot's message: robot is its id when
// SetRobots named it, else it counts as OtherLabel.
func (m *Metrics) RejectRobot(reason, robot string) {
	m.mu.Lock()
	if robot != NotRobot && !m.robots[robot] {
		robot = OtherLabel
	}
	c := m.counter(reason, robot)
	m.mu.Unlock()
	c.Inc()
}

// SetOnline sets the number of robots online.
func (m *Metrics) SetOnline(n int) { m.online.Set(float64(n)) }

// HoldStarted counts one hold directive issued.
func (m *Metrics) HoldStarted() { m.holds.Inc() }

// HoldEnded records a released hold and how long it lasted.
func (m *Metrics) HoldEnded(d time.Duration) {
	m.holdsEnded.Inc()
	m.holdDur.Observe(nonNegative(d).Seconds())
}

// HoldLatency records the reaction latency of one traffic hold: from the
// conflicting pose received to the hold published. Call it with
// published.Sub(poseReceived).
func (m *Metrics) HoldLatency(d time.Duration) { m.holdLat.Observe(nonNegative(d).Seconds()) }

// Shed counts one robot message the inbox skipped, by reason
// (ingest.Shed*).
func (m *Metrics) Shed(reason string) {
	if c, ok := m.shed[reason]; ok {
		c.Inc()
	}
}

// Lag records the age of a message the core took and the backlog behind it.
func (m *Metrics) Lag(age time.Duration, backlog int) {
	s := nonNegative(age).Seconds()
	m.lag.Observe(s)
	m.lastLag.Set(s)
	m.backlog.Set(float64(backlog))
}

// Checkpoint counts one checkpoint applied.
func (m *Metrics) Checkpoint() { m.checkpts.Inc() }

// SetCollisions mirrors sim/world's collision count.
func (m *Metrics) SetCollisions(n int) { m.collisions.Set(float64(n)) }

// nonNegative guards histograms against clock steps backwards.
func nonNegative(d time.Duration) time.Duration { return max(d, 0) }

// Observe counts one message in by kind and, for sim/world, mirrors the
// collision count. It takes the message decoded (nothing is decoded twice).
func (m *Metrics) Observe(kind topics.Kind, msg topics.Message) {
	m.MessageIn(kind)
	if w, ok := msg.(*topics.World); ok {
		m.SetCollisions(w.Collisions)
	}
}
