package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"time"
)

// cameraStats is what a SITL robot's rendered camera measured, written to
// --camera-stats at exit for the SITL campaign.
type cameraStats struct {
	mu         sync.Mutex
	Frames     int       `json:"frames"`
	Detections int       `json:"detections"` // ranged arena and face markers
	RenderMs   []float64 `json:"-"`
	DetectMs   []float64 `json:"-"`
	// RangeErr is |camera distance / true distance - 1| of every ranged
	// marker, against the world's truth at the frame.
	RangeErr []float64 `json:"-"`
}

// cameraSummary is the file --camera-stats holds.
type cameraSummary struct {
	Frames             int     `json:"frames"`
	DetectionsPerFrame float64 `json:"detections_per_frame"`
	RenderMsMean       float64 `json:"render_ms_mean"`
	DetectMsMean       float64 `json:"detect_ms_mean"`
	DetectMsP99        float64 `json:"detect_ms_p99"`
	RangeErrMedian     float64 `json:"range_err_median"`
	RangeErrP95        float64 `json:"range_err_p95"`
	RangeSamples       int     `json:"range_samples"`
	// FPS is frames per second of wall time while the robot ran.
	FPS float64 `json:"fps"`
}

func (s *cameraStats) summary(wall time.Duration) cameraSummary {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := cameraSummary{Frames: s.Frames, RenderMsMean: mean(s.RenderMs), DetectMsMean: mean(s.DetectMs),
		DetectMsP99: quantile(s.DetectMs, 0.99), RangeErrMedian: quantile(s.RangeErr, 0.5),
		RangeErrP95: quantile(s.RangeErr, 0.95), RangeSamples: len(s.RangeErr)}
	if s.Frames > 0 {
		out.DetectionsPerFrame = float64(s.Detections) / float64(s.Frames)
	}
	if wall > 0 {
		out.FPS = float64(s.Frames) / wall.Seconds()
	}
	return out
}

func (s *cameraStats) write(path string, wall time.Duration) error {
	b, err := json.MarshalIndent(s.summary(wall), "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("camera stats: %w", err)
	}
	return nil
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t / float64(len(v))
}

// quantile is the q-quantile of v (nearest rank), 0 for none.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
