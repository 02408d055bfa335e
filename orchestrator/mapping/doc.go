// Package mapping turns a mapping sweep into the marker map and the distance
// calibration.
//
// The sweeping robot stands near the arena's centre and turns 360°. Each
// arena-marker sighting, at heading h (turned so far, radians CCW, the
// sweep's start heading is the arena's x axis) with bearing b (relative to
// the heading, positive left) and camera distance d, is the point
// d·(cos(h+b), sin(h+b)) relative to the robot. Face sightings are ignored.
//
// Per marker, samples farther from the per-axis median than 3 scaled median
// absolute deviations (at least MinSpreadM) are dropped as outliers and the
// rest averaged in x, y. A circle is fitted to the marker ring (algebraic
// least squares; markers are on the wall): its diameter is the measured
// diameter, Scale = configured / measured, and markers are re-centred on the
// fitted centre and scaled, so the map is in the arena frame in real metres.
// Robots multiply every camera distance by Scale from fleet/map.
package mapping
