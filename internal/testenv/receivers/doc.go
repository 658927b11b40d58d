// Package receivers runs what adsync's alerts are delivered to in tests: an
// SMTP server (STARTTLS, PLAIN authentication) and a webhook receiver that
// checks signatures; both keep what they accepted.
package receivers
