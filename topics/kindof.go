package topics

// Each message knows its kind: Message.TopicKind, checked against the kinds
// table by TestEveryMessageKnowsItsKind.

func (*Status) TopicKind() Kind                { return KindStatus }
func (*Pose) TopicKind() Kind                  { return KindPose }
func (*Sightings) TopicKind() Kind             { return KindSightings }
func (*Checkpoint) TopicKind() Kind            { return KindCheckpoint }
func (*Event) TopicKind() Kind                 { return KindEvents }
func (*Heartbeat) TopicKind() Kind             { return KindHeartbeat }
func (*Directive) TopicKind() Kind             { return KindCmd }
func (*FleetCommand) TopicKind() Kind          { return KindFleetCmd }
func (*FleetMap) TopicKind() Kind              { return KindFleetMap }
func (*OrchestratorState) TopicKind() Kind     { return KindOrchestratorStatus }
func (*OrchestratorHeartbeat) TopicKind() Kind { return KindOrchestratorHeartbeat }
func (*World) TopicKind() Kind                 { return KindSimWorld }
