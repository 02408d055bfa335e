package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"collaborate/internal/testkit"
	"collaborate/topics"
)

// BenchmarkHoldToDirective measures what an operator waits for: from
// POST /api/robots/r1/hold to the directive at a watcher subscribed to
// robots/r1/cmd, with the embedded broker and, in the same run, with the
// orchestrator on a real mosquitto (deploy/mosquitto). It reports the
// median and p99 of each, and the median time to the HTTP answer, which
// comes once the latch is on disk (the directive goes out before); compare
// the two brokers, not the absolute figures:
//
//	go test ./orchestrator -run '^$' -bench HoldToDirective -benchtime 200x
func BenchmarkHoldToDirective(b *testing.B) {
	for _, mode := range []string{"embedded", "mosquitto"} {
		b.Run(mode, func(b *testing.B) {
			dir := b.TempDir()
			creds := filepath.Join(dir, "credentials.yaml")
			for _, u := range [][2]string{{"operator", "op"}, {"robot", "r1"}, {"observer", "watch"}} {
				if err := runPasswd([]string{"--credentials", creds, "--role", u[0], u[1]},
					strings.NewReader(u[1]+"-secret-pw\n"), io.Discard, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			args := []string{"--missions", "../deploy/missions.example.yaml"}
			broker := ""
			if mode == "mosquitto" {
				pw := filepath.Join(dir, "passwd")
				testkit.MosquittoPasswd(b, pw, map[string]string{"orchestrator": "orch-pw", "r1": "r1-secret-pw", "watch": "watch-secret-pw"})
				root, _ := testkit.ModuleRoot()
				m := testkit.StartMosquitto(b, root, dir, pw, "")
				if err := os.WriteFile(filepath.Join(dir, "orch.pw"), []byte("orch-pw\n"), 0o600); err != nil {
					b.Fatal(err)
				}
				args = append(args, "--broker", m.URL, "--password-file", filepath.Join(dir, "orch.pw"))
				broker = m.Addr
			}
			r := start(b, dir, args...)
			if broker == "" {
				broker = r.addrs["mqtt"]
			}
			// r1 online, so that it is known.
			rc := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + broker).SetClientID("r1").SetUsername("r1").
				SetPassword("r1-secret-pw").SetAutoReconnect(false))
			if tok := rc.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
				b.Fatalf("connect r1: %v", tok.Error())
			}
			defer rc.Disconnect(100)
			st, _ := topics.Encode(&topics.Status{Header: topics.Stamp("r1", 1, time.Now()), State: topics.StateIdle})
			rc.Publish(topics.Robot("r1", topics.KindStatus), 1, true, st).WaitTimeout(wait)

			arrived := make(chan time.Time, 64) // when a directive reached the watcher
			wc := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + broker).SetClientID("bench-watch").
				SetUsername("watch").SetPassword("watch-secret-pw").SetAutoReconnect(false).SetOrderMatters(true))
			if tok := wc.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
				b.Fatalf("connect watch: %v", tok.Error())
			}
			defer wc.Disconnect(100)
			wc.Subscribe(topics.Robot("r1", topics.KindCmd), 1, func(_ paho.Client, m paho.Message) {
				if !m.Retained() {
					arrived <- time.Now()
				}
			}).WaitTimeout(wait)

			jar, _ := cookiejar.New(nil)
			hc := &http.Client{Jar: jar, Timeout: 5 * time.Second}
			resp, err := hc.Post("http://"+r.addrs["http"]+"/login", "application/json",
				strings.NewReader(`{"user":"op","password":"op-secret-pw"}`))
			if err != nil || resp.StatusCode/100 != 2 {
				b.Fatalf("login: %v %v", err, resp)
			}
			resp.Body.Close()
			var lat, answer []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				action := []string{"hold", "resume"}[i%2]
				t0 := time.Now()
				resp, err := hc.Post("http://"+r.addrs["http"]+"/api/robots/r1/"+action, "application/json", nil)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				answer = append(answer, time.Since(t0))
				select {
				case at := <-arrived:
					lat = append(lat, at.Sub(t0))
				case <-time.After(5 * time.Second):
					b.Fatalf("%s %d: no directive at the watcher", action, i)
				}
				for len(arrived) > 0 { // a route sent with the resume
					<-arrived
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			slices.Sort(answer)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(answer[len(answer)/2].Microseconds())/1000, "answer-p50-ms")
			b.Logf("%s: hold/resume -> directive at a watcher: p50 %v p99 %v; HTTP answer (latch on disk) p50 %v; over %d",
				mode, lat[len(lat)/2], lat[len(lat)*99/100], answer[len(answer)/2], len(lat))
		})
	}
}
