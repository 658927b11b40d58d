package bus

import "net/url"

// redact removes credentials from a NATS URL list entry before it is logged.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	p.User = url.User("[redacted]")
	return p.String()
}
