package bus

import (
	"errors"
	"time"
)

// Handlers return classified errors; only the bus adapter turns them into
// JetStream acknowledgements:
//
//	nil                 → ack
//	RetryAfter(d, err)  → nak with delay d (redelivery, counted against MaxDeliver)
//	Reject(err)         → dead-letter with the reason, then term (never redelivered)
//	any other error     → nak with the consumer's back-off for that attempt
//
// After the consumer's last delivery a failing message is dead-lettered too,
// so that no message is ever stuck or silently dropped.

type retryError struct {
	err   error
	after time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// RetryAfter asks for redelivery after d.
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &retryError{err: err, after: d}
}

type rejectError struct{ err error }

func (e *rejectError) Error() string { return e.err.Error() }
func (e *rejectError) Unwrap() error { return e.err }

// Reject marks a message that can never be processed (malformed, invalid,
// or refused for good): it goes to the dead-letter stream with the reason.
func Reject(err error) error {
	if err == nil {
		return nil
	}
	return &rejectError{err: err}
}

// Disposition is what the adapter does with a message after its handler ran.
type Disposition int

const (
	Ack Disposition = iota
	Retry
	DeadLetter
)

// Classify maps a handler's error to a disposition and, for Retry, the
// requested delay (0 = the consumer's back-off).
func Classify(err error) (Disposition, time.Duration) {
	if err == nil {
		return Ack, 0
	}
	var rj *rejectError
	if errors.As(err, &rj) {
		return DeadLetter, 0
	}
	var rt *retryError
	if errors.As(err, &rt) {
		return Retry, rt.after
	}
	return Retry, 0
}
