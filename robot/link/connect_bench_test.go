package link_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"collaborate/robot/link"
	"collaborate/topics"
)

// BenchmarkConnectWithRetained: a robot connecting to mochi while its
// directive, the fleet command, the map and the orchestrator's status are
// retained, as on every connection to the orchestrator's broker: how long
// until the link counts as connected (both SUBSCRIBEs granted), and how
// many SUBSCRIBEs mochi refused on the way (a packet id in use). It reports
// the median and the largest time.
func BenchmarkConnectWithRetained(b *testing.B) {
	br := startBroker(b, "127.0.0.1:0")
	br.publish(b, topics.TopicFleetCmd, &topics.FleetCommand{Header: orch(1), Epoch: 1, Kind: topics.FleetResume})
	br.publish(b, topics.TopicFleetMap, &topics.FleetMap{Header: orch(2), DiameterM: 3, MeasuredDiameterM: 3, Scale: 1})
	br.publish(b, topics.TopicOrchestratorStatus, &topics.OrchestratorState{Header: orch(3), State: topics.OrchOnline, Epoch: 1})
	var took []time.Duration
	var refused uint64
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("r%d", i+1)
		br.publish(b, topics.Robot(id, topics.KindCmd), &topics.Directive{Header: orch(uint64(4 + i)), Epoch: 1, Kind: topics.DirHold})
		start := time.Now()
		l := dial(b, br.addr, func(o *link.Options) { o.RobotID, o.RetryInterval = id, 0 }) // the default interval
		for !l.State().Connected {
			time.Sleep(time.Millisecond)
		}
		took = append(took, time.Since(start))
		refused += l.Stats().SubscribeRetries
		_ = l.Close()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(refused)/float64(b.N), "refused/connect")
}
