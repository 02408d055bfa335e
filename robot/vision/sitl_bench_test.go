//go:build opencv

package vision

import (
	"image"
	"math"
	"sync"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"collaborate/robot/vision/aruco"
	"collaborate/robot/vision/render"
)

// sitlFleet is four robots crossing a 3 m arena (poses of the robots'
// centres); their cameras sit 5 cm ahead.
var sitlFleet = []render.Pose{{XM: -0.6, YM: -0.2, ThetaRad: 0.3}, {XM: 0.5, YM: 0.3, ThetaRad: 2.8}, {XM: 0.1, YM: -0.7, ThetaRad: 1.4}, {XM: 0.2, YM: 0.8, ThetaRad: -1.9}}

func sitlScene() *render.Scene {
	s := &render.Scene{Dictionary: aruco.Dict4X4_250, Arena: render.Arena{RadiusM: 1.5}}
	for i := range 12 {
		a := 2 * math.Pi * float64(i) / 12
		s.Markers = append(s.Markers, render.Marker{ID: i, XM: 1.5 * math.Cos(a), YM: 1.5 * math.Sin(a), NormalRad: a + math.Pi})
	}
	for k, p := range sitlFleet {
		b := 100 + 4*k
		s.Robots = append(s.Robots, render.Robot{XM: p.XM, YM: p.YM, ThetaRad: p.ThetaRad, Faces: [4]int{b, b + 1, b + 2, b + 3}})
	}
	return s
}

func cameraOf(p render.Pose) render.Pose {
	return render.Pose{XM: p.XM + 0.05*math.Cos(p.ThetaRad), YM: p.YM + 0.05*math.Sin(p.ThetaRad), ThetaRad: p.ThetaRad}
}

var sitlEffects = render.Effects{NoiseSigma: 2, ShotNoise: 0.05, Vignetting: 0.3, ExposureS: 0.01}

// cpuTime is the process's user and system time: on a machine shared with
// other work, wall time per frame swings with the load, CPU time less.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSITL is the software-in-the-loop camera's cost at 640×480: a
// frame rendered (pure Go, package render) from a robot's camera in an
// arena with four robots, turning at 0.8 rad/s (motion blur) with sensor
// noise, then run through the real pipeline (Detector.Look: cv::aruco,
// classification, ranging).
//
//   - "frame" alternates the four robots' views in one goroutine and
//     reports the median wall time of each step, render-ms/frame and
//     detect-ms/frame, and cpu-ms/frame for both together;
//   - "4robots" runs the four robots at once, each its own goroutine with
//     its own renderer and detector, as fast as they go: fps/robot is what
//     each achieves while sharing the machine (the SITL target is 10).
func BenchmarkSITL(b *testing.B) {
	scene := sitlScene()
	cfg := configWith(&wideLens)
	b.Run("frame", func(b *testing.B) {
		r := newRenderer(b, wideLens, sitlEffects)
		d := newTestDetector(b, cfg)
		img, _ := r.Render(scene, cameraOf(sitlFleet[0]), 0.8)
		m := gocv.NewMat()
		defer m.Close()
		var rend, det []float64
		cpu0 := cpuTime(b)
		for i := 0; b.Loop(); i++ {
			p := cameraOf(sitlFleet[i%len(sitlFleet)])
			rend = append(rend, timeIt(b, func() error { return r.RenderInto(img, scene, p, 0.8) }))
			det = append(det, timeIt(b, func() error {
				if err := GrayMat(img, &m); err != nil {
					return err
				}
				_, err := d.Look(m)
				return err
			}))
		}
		b.ReportMetric(median(rend), "render-ms/frame")
		b.ReportMetric(median(det), "detect-ms/frame")
		b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/frame")
	})
	b.Run("4robots", func(b *testing.B) {
		type robot struct {
			r *render.Renderer
			d *Detector
		}
		robots := make([]robot, len(sitlFleet))
		for k := range robots {
			robots[k] = robot{newRenderer(b, wideLens, sitlEffects), newTestDetector(b, cfg)}
		}
		cpu0 := cpuTime(b)
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, len(robots))
		for k, rb := range robots {
			wg.Add(1)
			go func() {
				defer wg.Done()
				img := &image.Gray{}
				m := gocv.NewMat()
				defer m.Close()
				for range b.N {
					if err := rb.r.RenderInto(img, scene, cameraOf(sitlFleet[k]), 0.8); err != nil {
						errs <- err
						return
					}
					if err := GrayMat(img, &m); err != nil {
						errs <- err
						return
					}
					if _, err := rb.d.Look(m); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		el := time.Since(start).Seconds()
		b.ReportMetric(float64(b.N)/el, "fps/robot")
		b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N*len(robots)), "cpu-ms/frame")
	})
}
