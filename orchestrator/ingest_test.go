package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"collaborate/internal/testkit"
	"collaborate/topics"
)

// Each robot message is decoded once, at the broker's door: the core, the
// dashboard and the metrics take it as decoded. Counted with
// topics.Decoded over a stream of poses, heartbeats, a status and a
// checkpoint from a robot (the orchestrator publishes, but never decodes
// its own messages).
func TestEachMessageDecodedOnce(t *testing.T) {
	dir := t.TempDir()
	if err := runPasswd([]string{"--credentials", filepath.Join(dir, "credentials.yaml"), "--role", "robot", "r1"},
		strings.NewReader("r1-secret-pw\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	r := start(t, dir, "--missions", "../deploy/missions.example.yaml")
	o := paho.NewClientOptions().AddBroker("tcp://" + r.addrs["mqtt"]).SetClientID("r1").SetUsername("r1").
		SetPassword("r1-secret-pw").SetAutoReconnect(false).SetOrderMatters(true)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("connect as r1: %v", tok.Error())
	}
	defer c.Disconnect(100)

	var msgs []struct {
		k topics.Kind
		m topics.Message
	}
	now := time.Now()
	add := func(k topics.Kind, m topics.Message) {
		msgs = append(msgs, struct {
			k topics.Kind
			m topics.Message
		}{k, m})
	}
	faces := topics.FaceIDs{Front: 100, Left: 101, Back: 102, Right: 103}
	add(topics.KindStatus, &topics.Status{Header: topics.Stamp("r1", 1, now), State: topics.StateOnline, Faces: &faces})
	for i := uint64(1); i <= 40; i++ {
		x, y := 0.01*float64(i), 0.0
		add(topics.KindPose, &topics.Pose{Header: topics.Stamp("r1", i, now), State: topics.StateIdle, XM: &x, YM: &y})
		add(topics.KindHeartbeat, &topics.Heartbeat{Header: topics.Stamp("r1", i, now), State: topics.StateIdle})
	}
	add(topics.KindEvents, &topics.Event{Header: topics.Stamp("r1", 1, now), Kind: topics.EventFault, Detail: "probe"})
	before := topics.Decoded()
	for _, m := range msgs {
		b, err := topics.Encode(m.m)
		if err != nil {
			t.Fatal(err)
		}
		p := topics.PolicyOf(m.k)
		if tok := c.Publish(topics.Robot("r1", m.k), 1, p.Retained, b); !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error()) // QoS 1: acknowledged once taken
		}
	}
	// The last pose reached the core (its x is in the fleet view), so every
	// message before it was handled or superseded.
	watchPass := initialPassword(t, dir, "watch")
	testkit.Eventually(t, wait, "the last pose in the fleet view", func() bool {
		req, _ := http.NewRequest(http.MethodGet, "http://"+r.addrs["http"]+"/api/fleet", nil)
		req.SetBasicAuth("watch", watchPass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var v struct {
			Robots []struct {
				ID string   `json:"id"`
				X  *float64 `json:"x_m"`
			} `json:"robots"`
		}
		if json.NewDecoder(resp.Body).Decode(&v) != nil {
			return false
		}
		for _, rb := range v.Robots {
			if rb.ID == "r1" && rb.X != nil && *rb.X > 0.395 {
				return true
			}
		}
		return false
	})
	if got := topics.Decoded() - before; got != uint64(len(msgs)) {
		t.Errorf("%d robot messages decoded %d times, want once each", len(msgs), got)
	}
}
