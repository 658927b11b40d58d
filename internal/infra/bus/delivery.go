package bus

import "context"

// Delivery describes the JetStream delivery a handler is processing.
type Delivery struct {
	// Attempt is the delivery count of the message, from 1.
	Attempt   int
	Subject   string
	Consumer  string
	StreamSeq uint64
	// MaxDeliver is the consumer's delivery limit (-1: unlimited).
	MaxDeliver int
}

type deliveryKey struct{}

// WithDelivery returns ctx carrying d.
func WithDelivery(ctx context.Context, d Delivery) context.Context {
	return context.WithValue(ctx, deliveryKey{}, d)
}

// DeliveryFrom returns the delivery a handler is processing. Outside a
// handler it returns a first attempt.
func DeliveryFrom(ctx context.Context) Delivery {
	if d, ok := ctx.Value(deliveryKey{}).(Delivery); ok {
		return d
	}
	return Delivery{Attempt: 1, MaxDeliver: -1}
}
