package topics

// The fields of every struct of the contract, as the decoder reads them: in
// struct order, with the struct's json tag, and where each value goes.
// TestSchemasMatchStructs fails when a struct and its schema here differ.
// message adds the header's fields (v, sender, seq, ts) in front.

var statusSchema = message[Status]("status",
	str("state", func(m *Status) *string { return &m.State }, RobotStates...),
	str("version,omitempty", func(m *Status) *string { return &m.Version }),
	optNested("faces,omitempty", func(m *Status) **FaceIDs { return &m.Faces }, faceIDsSchema),
	uinteger("epoch,omitempty", func(m *Status) *uint64 { return &m.Epoch }),
	uinteger("cmd_seq,omitempty", func(m *Status) *uint64 { return &m.CmdSeq }),
	integer("step,omitempty", func(m *Status) *int { return &m.Step }),
	optInteger("target,omitempty", func(m *Status) **int { return &m.Target }),
	str("reason,omitempty", func(m *Status) *string { return &m.Reason }),
)

var faceIDsSchema = object(
	integer("front", func(m *FaceIDs) *int { return &m.Front }),
	integer("left", func(m *FaceIDs) *int { return &m.Left }),
	integer("back", func(m *FaceIDs) *int { return &m.Back }),
	integer("right", func(m *FaceIDs) *int { return &m.Right }),
)

var poseSchema = message[Pose]("pose",
	str("state", func(m *Pose) *string { return &m.State }, RobotStates...),
	optInteger("target,omitempty", func(m *Pose) **int { return &m.Target }),
	optNumber("distance_m,omitempty", func(m *Pose) **float64 { return &m.DistanceM }),
	optNumber("x_m,omitempty", func(m *Pose) **float64 { return &m.XM }),
	optNumber("y_m,omitempty", func(m *Pose) **float64 { return &m.YM }),
	optNumber("theta_rad,omitempty", func(m *Pose) **float64 { return &m.ThetaRad }),
	number("speed_mps", func(m *Pose) *float64 { return &m.SpeedMps }),
	integer("step", func(m *Pose) *int { return &m.Step }),
)

var sightingSchema = object(
	integer("id", func(m *Sighting) *int { return &m.MarkerID }),
	str("kind", func(m *Sighting) *string { return &m.Kind }, MarkerArena, MarkerFace),
	str("robot,omitempty", func(m *Sighting) *string { return &m.Robot }),
	str("face,omitempty", func(m *Sighting) *string { return &m.Face }, FaceNames...),
	number("distance_m", func(m *Sighting) *float64 { return &m.DistanceM }),
	number("bearing_rad", func(m *Sighting) *float64 { return &m.BearingRad }),
)

var sightingsSchema = message[Sightings]("sightings",
	optNumber("heading_rad,omitempty", func(m *Sightings) **float64 { return &m.HeadingRad }),
	list("seen", func(m *Sightings) *[]Sighting { return &m.Seen }, sightingSchema),
)

var checkpointSchema = message[Checkpoint]("checkpoint",
	uinteger("epoch", func(m *Checkpoint) *uint64 { return &m.Epoch }),
	integer("marker", func(m *Checkpoint) *int { return &m.Marker }),
	integer("step", func(m *Checkpoint) *int { return &m.Step }),
	boolean("final", func(m *Checkpoint) *bool { return &m.Final }),
)

var eventSchema = message[Event]("event",
	str("kind", func(m *Event) *string { return &m.Kind }, EventKinds...),
	uinteger("epoch,omitempty", func(m *Event) *uint64 { return &m.Epoch }),
	uinteger("cmd_seq,omitempty", func(m *Event) *uint64 { return &m.CmdSeq }),
	str("other,omitempty", func(m *Event) *string { return &m.Other }),
	str("face,omitempty", func(m *Event) *string { return &m.Face }, FaceNames...),
	optInteger("marker,omitempty", func(m *Event) **int { return &m.Marker }),
	optNumber("distance_m,omitempty", func(m *Event) **float64 { return &m.DistanceM }),
	str("detail,omitempty", func(m *Event) *string { return &m.Detail }),
)

var heartbeatSchema = message[Heartbeat]("heartbeat",
	str("state", func(m *Heartbeat) *string { return &m.State }, RobotStates...),
	uinteger("epoch,omitempty", func(m *Heartbeat) *uint64 { return &m.Epoch }),
	uinteger("cmd_seq,omitempty", func(m *Heartbeat) *uint64 { return &m.CmdSeq }),
	uinteger("route_epoch,omitempty", func(m *Heartbeat) *uint64 { return &m.RouteEpoch }),
	uinteger("route_seq,omitempty", func(m *Heartbeat) *uint64 { return &m.RouteSeq }),
	integer("step,omitempty", func(m *Heartbeat) *int { return &m.Step }),
	optNumber("x_m,omitempty", func(m *Heartbeat) **float64 { return &m.XM }),
	optNumber("y_m,omitempty", func(m *Heartbeat) **float64 { return &m.YM }),
	optNumber("theta_rad,omitempty", func(m *Heartbeat) **float64 { return &m.ThetaRad }),
)

var directiveSchema = message[Directive]("directive",
	uinteger("epoch", func(m *Directive) *uint64 { return &m.Epoch }),
	str("kind", func(m *Directive) *string { return &m.Kind }, DirectiveKinds...),
	intList("route,omitempty", func(m *Directive) *[]int { return &m.Route }),
	integer("released,omitempty", func(m *Directive) *int { return &m.Released }),
	integer("step,omitempty", func(m *Directive) *int { return &m.Step }),
	number("backoff_m,omitempty", func(m *Directive) *float64 { return &m.BackoffM }),
	number("stop_m,omitempty", func(m *Directive) *float64 { return &m.StopM }),
	optNumber("park_x_m,omitempty", func(m *Directive) **float64 { return &m.ParkXM }),
	optNumber("park_y_m,omitempty", func(m *Directive) **float64 { return &m.ParkYM }),
	str("reason,omitempty", func(m *Directive) *string { return &m.Reason }),
	boolean("stop_radial,omitempty", func(m *Directive) *bool { return &m.StopRadial }),
)

var fleetCommandSchema = message[FleetCommand]("fleet_cmd",
	uinteger("epoch", func(m *FleetCommand) *uint64 { return &m.Epoch }),
	str("kind", func(m *FleetCommand) *string { return &m.Kind }, FleetStop, FleetResume),
)

var mapMarkerSchema = object(
	integer("id", func(m *MapMarker) *int { return &m.ID }),
	number("x_m", func(m *MapMarker) *float64 { return &m.XM }),
	number("y_m", func(m *MapMarker) *float64 { return &m.YM }),
	integer("samples", func(m *MapMarker) *int { return &m.Samples }),
)

var rosterEntrySchema = object(
	str("robot", func(m *RosterEntry) *string { return &m.Robot }),
	nested("faces", func(m *RosterEntry) *FaceIDs { return &m.Faces }, faceIDsSchema),
)

var fleetMapSchema = message[FleetMap]("fleet_map",
	number("diameter_m", func(m *FleetMap) *float64 { return &m.DiameterM }),
	number("measured_diameter_m", func(m *FleetMap) *float64 { return &m.MeasuredDiameterM }),
	number("scale", func(m *FleetMap) *float64 { return &m.Scale }),
	list("markers", func(m *FleetMap) *[]MapMarker { return &m.Markers }, mapMarkerSchema),
	str("mapped_by,omitempty", func(m *FleetMap) *string { return &m.MappedBy }),
	list("roster,omitempty", func(m *FleetMap) *[]RosterEntry { return &m.Roster }, rosterEntrySchema),
)

var orchestratorStateSchema = message[OrchestratorState]("orchestrator_status",
	str("state", func(m *OrchestratorState) *string { return &m.State }, OrchOnline, OrchOffline),
	uinteger("epoch,omitempty", func(m *OrchestratorState) *uint64 { return &m.Epoch }),
)

var orchestratorHeartbeatSchema = message[OrchestratorHeartbeat]("orchestrator_heartbeat",
	uinteger("epoch", func(m *OrchestratorHeartbeat) *uint64 { return &m.Epoch }),
)

var truePoseSchema = object(
	str("robot", func(m *TruePose) *string { return &m.Robot }),
	number("x_m", func(m *TruePose) *float64 { return &m.XM }),
	number("y_m", func(m *TruePose) *float64 { return &m.YM }),
	number("theta_rad", func(m *TruePose) *float64 { return &m.ThetaRad }),
	number("speed_mps", func(m *TruePose) *float64 { return &m.SpeedMps }),
)

var worldSchema = message[World]("world",
	number("sim_time_s", func(m *World) *float64 { return &m.SimTimeS }),
	number("diameter_m", func(m *World) *float64 { return &m.DiameterM }),
	integer("collisions", func(m *World) *int { return &m.Collisions }),
	list("robots", func(m *World) *[]TruePose { return &m.Robots }, truePoseSchema),
)
