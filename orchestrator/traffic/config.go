package traffic

// Config tunes the planner. Zero, negative or non-finite fields take the
// default shown (see DefaultConfig).
type Config struct {
	RobotDiameterM float64 // 0.18
	MarginM        float64 // 0.12: added to the diameter, centre to centre
	StopShortM     float64 // 0.35: robots stop this far short of their target marker
	ArriveTolM     float64 // 0.02: RemainingM <= StopShortM+ArriveTolM means arrived
	HorizonS       float64 // 8: conflicts further ahead in time are not looked at yet
	SlackS         float64 // 1: time windows overlap if closer than this ...
	SlackFrac      float64 // 0.25: ... plus this fraction of the earlier entry time
	LatencyS       float64 // 0.3: control and network latency until a hold bites
	DecelMps2      float64 // 0.5: braking deceleration
	PeriodS        float64 // 0.1: how often Plan is called
	BufferM        float64 // 0.05: kept between a held robot's stop and a conflict zone
	ReleaseHystM   float64 // 0.05: a held robot is released only with this much more room
	MinSpeedMps    float64 // 0.05: floor for SpeedMps, so time windows stay finite
	DwellS         float64 // 2: how long a non-final target stays occupied after arrival
	ZoneM          float64 // 0: releases closer than this share a conflict zone; 0 means 2×clearance
	CellM          float64 // 0.5: spatial grid cell
	DepartM        float64 // 0.05: a robot closer than this to where its drive began has not set off
	LegAging       bool    // rank by the start of the current drive, not of the mission
	NoBoxBlocking  bool    // let a held robot stop inside another robot's path
}

// DefaultConfig is the configuration for the 3 m arena and its 0.18 m robots.
func DefaultConfig() Config {
	return Config{
		RobotDiameterM: 0.18, MarginM: 0.12, StopShortM: 0.35, ArriveTolM: 0.02,
		HorizonS: 8, SlackS: 1, SlackFrac: 0.25, LatencyS: 0.3, DecelMps2: 0.5,
		PeriodS: 0.1, BufferM: 0.05, ReleaseHystM: 0.05, MinSpeedMps: 0.05,
		DwellS: 2, CellM: 0.5, DepartM: 0.05,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	fix := func(v *float64, def float64) {
		if !(*v > 0) || !finite(*v) {
			*v = def
		}
	}
	fix(&c.RobotDiameterM, d.RobotDiameterM)
	fix(&c.MarginM, d.MarginM)
	fix(&c.StopShortM, d.StopShortM)
	fix(&c.ArriveTolM, d.ArriveTolM)
	fix(&c.HorizonS, d.HorizonS)
	fix(&c.SlackS, d.SlackS)
	fix(&c.SlackFrac, d.SlackFrac)
	fix(&c.LatencyS, d.LatencyS)
	fix(&c.DecelMps2, d.DecelMps2)
	fix(&c.PeriodS, d.PeriodS)
	fix(&c.BufferM, d.BufferM)
	fix(&c.ReleaseHystM, d.ReleaseHystM)
	fix(&c.MinSpeedMps, d.MinSpeedMps)
	fix(&c.DwellS, d.DwellS)
	fix(&c.ZoneM, 2*(c.RobotDiameterM+c.MarginM))
	fix(&c.CellM, d.CellM)
	fix(&c.DepartM, d.DepartM)
	return c
}

// ClearanceM is the smallest centre-to-centre distance the planner allows
// between two robots: a diameter plus the margin.
func (c Config) ClearanceM() float64 {
	c = c.withDefaults()
	return c.RobotDiameterM + c.MarginM
}

// StopDistM is how far a robot at speed v still travels after a hold is
// issued: latency, then braking.
func (c Config) StopDistM(v float64) float64 {
	c = c.withDefaults()
	return v*c.LatencyS + v*v/(2*c.DecelMps2)
}
