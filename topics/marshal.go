package topics

import "encoding/json"

// A required list is never null on the wire: the decoders reject null for a
// required field, and a Go nil slice would marshal to null. These marshalers
// write nil as [], so that whatever Encode accepts, the decoders accept.

// MarshalJSON writes a nil Seen as [].
func (m Sightings) MarshalJSON() ([]byte, error) {
	type plain Sightings // drops the method, keeps the tags
	if m.Seen == nil {
		m.Seen = []Sighting{}
	}
	return json.Marshal(plain(m))
}

// MarshalJSON writes nil Markers as [].
func (m FleetMap) MarshalJSON() ([]byte, error) {
	type plain FleetMap
	if m.Markers == nil {
		m.Markers = []MapMarker{}
	}
	return json.Marshal(plain(m))
}

// MarshalJSON writes nil Robots as [].
func (m World) MarshalJSON() ([]byte, error) {
	type plain World
	if m.Robots == nil {
		m.Robots = []TruePose{}
	}
	return json.Marshal(plain(m))
}
