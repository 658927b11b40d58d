package events

// DomainName returns the domain an event is about (for logging and routing).
func (e DirectoryRequested) DomainName() string { return e.Domain }
func (e DirectoryPage) DomainName() string      { return e.Domain }
func (e DirectoryCompleted) DomainName() string { return e.Domain }
func (e DirectoryFailed) DomainName() string    { return e.Domain }
func (e AccountChanges) DomainName() string     { return e.Domain }
func (e ChangesCompleted) DomainName() string   { return e.Domain }
