package events

// All returns a zero value of every event type, for schema checks and
// tooling that must cover every event.
func All() []Event {
	return []Event{
		&SyncRequested{}, &SyncApproved{}, &SyncRejected{},
		&DirectoryRequested{}, &DirectoryPage{}, &DirectoryCompleted{}, &DirectoryFailed{},
		&AccountChanges{}, &ChangesCompleted{}, &SyncCompleted{},
		&PlanDecided{}, &PlanApplied{}, &AccountChanged{}, &AuditRecorded{}, &NotificationRequested{}, &NotificationFailed{},
	}
}
