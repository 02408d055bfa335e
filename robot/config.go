package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"collaborate/robot/drive"
	"collaborate/robot/vision"
	"collaborate/topics"
)

// Config is the robot's YAML configuration. Flags override it.
type Config struct {
	ID           string `yaml:"id"`
	Broker       string `yaml:"broker"`        // tcp://laptop:1883 or tls://laptop:8883; a comma-separated list for a cluster
	PasswordFile string `yaml:"password_file"` // one line: this robot's MQTT password
	TLSCA        string `yaml:"tls_ca"`        // CA that signed the broker's certificate, for tls://
	StoreDir     string `yaml:"store_dir"`     // on-disk outbox for QoS 1 messages
	// FaceBase is the first of this robot's four face marker ids (front,
	// left, back, right); 0 means Faces below.
	FaceBase  int            `yaml:"face_base"`
	Faces     topics.FaceIDs `yaml:"faces"`
	ControlHz float64        `yaml:"control_hz"`

	Pilot  PilotConfig   `yaml:"pilot"`
	Vision vision.Config `yaml:"vision"`
	Drive  drive.Config  `yaml:"drive"`
}

// PilotConfig is the part of the pilot's settings a user tunes.
type PilotConfig struct {
	MaxSpeedMps       float64 `yaml:"max_speed_mps"`
	MaxTurnRps        float64 `yaml:"max_turn_rps"`
	StopDistanceM     float64 `yaml:"stop_distance_m"`      // to an arena marker, counts as reached
	ParkDistanceM     float64 `yaml:"park_distance_m"`      // to the final goal (default: stop_distance_m)
	FaceStopDistanceM float64 `yaml:"face_stop_distance_m"` // another robot's face closer than this stops it
	ForwardConeDeg    float64 `yaml:"forward_cone_deg"`
	ReflexHalfWidthM  float64 `yaml:"reflex_half_width_m"` // a face this close to the path sideways counts
	// How often to publish, e.g. "1s": pose while standing (default 1s),
	// status without a change (default 5s). The heartbeat (every 0.5 s)
	// keeps the robot online however quiet these are.
	PoseIdleEvery time.Duration `yaml:"pose_idle_every"`
	StatusEvery   time.Duration `yaml:"status_every"`
}

func defaultConfig() Config {
	return Config{
		Broker:    "tcp://127.0.0.1:1883",
		ControlHz: 20,
		Vision:    vision.DefaultConfig(),
		Drive:     drive.Defaults(),
	}
}

// loadConfig reads path (if not empty) over the defaults. Unknown keys are
// an error: a typo must not fall back silently to a default.
func loadConfig(path string) (Config, error) {
	c := defaultConfig()
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, os.ErrNotExist) {
		if err.Error() == "EOF" {
			return c, nil
		}
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// faces returns the robot's face ids, from FaceBase or Faces.
func (c Config) faces() topics.FaceIDs {
	if c.FaceBase > 0 {
		b := c.FaceBase
		return topics.FaceIDs{Front: b, Left: b + 1, Back: b + 2, Right: b + 3}
	}
	return c.Faces
}

func (c Config) validate() error {
	var errs []string
	if err := topics.CheckRobotID(c.ID); err != nil {
		errs = append(errs, "id: "+err.Error())
	}
	if c.Broker == "" {
		errs = append(errs, "broker: required, e.g. tcp://laptop:1883")
	}
	f := c.faces()
	ids := map[int]bool{f.Front: true, f.Left: true, f.Back: true, f.Right: true}
	if len(ids) != 4 || f.Front < 0 || f.Left < 0 || f.Back < 0 || f.Right < 0 {
		errs = append(errs, fmt.Sprintf("faces: need four distinct marker ids (set face_base), got %+v", f))
	}
	if !(c.ControlHz >= 5 && c.ControlHz <= 100) {
		errs = append(errs, fmt.Sprintf("control_hz: must be within [5, 100], got %v", c.ControlHz))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func readPassword(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read password file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
