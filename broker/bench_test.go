package broker

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"collaborate/internal/testkit"
	"collaborate/topics"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// BenchmarkLatency measures publish→deliver latency through the broker, from
// paho Publish on a robot's TCP connection to the handler of the subscriber:
// "tcp" is a paho client over loopback TCP (a mosquitto_sub or a dashboard),
// "inline" is Broker.Subscribe (the orchestrator's own logic). Each publisher
// waits for its message to be delivered before it sends the next, so "pubs"
// messages are in flight.
//
//	go test ./broker -run '^$' -bench Latency -benchtime 2000x
func BenchmarkLatency(b *testing.B) {
	for _, sub := range []string{"tcp", "inline"} {
		for _, qos := range []byte{0, 1} {
			for _, pubs := range []int{1, 100} {
				b.Run(fmt.Sprintf("%s/qos%d/pubs%d", sub, qos, pubs), func(b *testing.B) { benchLatency(b, sub, qos, pubs) })
			}
		}
	}
}

type pending struct {
	start time.Time
	done  chan time.Duration
}

func benchLatency(b *testing.B, sub string, qos byte, pubs int) {
	creds := testCreds(b)
	ids := make([]string, pubs)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench%03d", i)
		if err := creds.SetPassword(ids[i], RoleRobot, []byte(pw(ids[i]))); err != nil {
			b.Fatal(err)
		}
	}
	br := startBroker(b, Options{Credentials: creds})
	url := tcpURL(br.Addrs().TCP)

	var waiting sync.Map // payload -> *pending
	deliver := func(payload []byte) {
		if v, ok := waiting.LoadAndDelete(string(payload)); ok {
			p := v.(*pending)
			p.done <- time.Since(p.start)
		}
	}
	if sub == "inline" {
		if err := br.Subscribe(topics.RobotFilter(topics.KindPose), 1, func(_ string, p []byte) { deliver(p) }); err != nil {
			b.Fatal(err)
		}
	} else {
		so := pahoOpts(b, url, "watch", "bench-sub").SetCleanSession(true)
		so.SetOnConnectHandler(func(c paho.Client) {
			c.Subscribe(topics.RobotFilter(topics.KindPose), qos, func(_ paho.Client, m paho.Message) { deliver(m.Payload()) })
		})
		connect(b, so)
		testkit.Eventually(b, wait, "the subscription", func() bool { return br.Info().Subscriptions >= 1 })
	}

	per := (b.N + pubs - 1) / pubs
	clients := make([]paho.Client, pubs)
	payloads := make([][][]byte, pubs)
	for i, id := range ids {
		clients[i] = connect(b, pahoOpts(b, url, id, id).SetCleanSession(true))
		for range per {
			payloads[i] = append(payloads[i], posePayload(b, id, 0.1))
		}
	}
	lat := make([]time.Duration, 0, per*pubs)
	var mu sync.Mutex
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			topic := topics.Robot(ids[i], topics.KindPose)
			done := make(chan time.Duration, 1)
			mine := make([]time.Duration, 0, per)
			for _, p := range payloads[i] {
				waiting.Store(string(p), &pending{start: time.Now(), done: done})
				clients[i].Publish(topic, qos, false, p)
				select {
				case d := <-done:
					mine = append(mine, d)
				case <-time.After(wait):
					b.Errorf("message from %s not delivered within %v", ids[i], wait)
					return
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(0, "ns/op") // per-op time mixes publishers; the percentiles are the figures
}
