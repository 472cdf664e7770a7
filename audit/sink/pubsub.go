package sink

import (
	"context"
	"encoding/json"
	"errors"

	"cloud.google.com/go/pubsub/v2"

	"github.com/dualread/dualread/audit"
)

// PubSub publishes every diverging pair (mismatch, missing-on-*,
// error-mismatch; not match, lag or incomparable) as a JSON message
// (audit.PairJSON) with attributes table, op and class, so subscribers can
// filter without parsing the body.
type PubSub struct {
	pub *pubsub.Publisher
}

// NewPubSub publishes through c to topic (an ID in c's project, or
// "projects/P/topics/T"). The topic must exist. The client stays the
// caller's to close.
func NewPubSub(c *pubsub.Client, topic string) *PubSub {
	p := c.Publisher(topic)
	// Bounded: beyond this the publisher refuses rather than buffering
	// without end while Pub/Sub is unreachable.
	p.PublishSettings.FlowControlSettings.MaxOutstandingMessages = 10000
	p.PublishSettings.FlowControlSettings.LimitExceededBehavior = pubsub.FlowControlSignalError
	return &PubSub{pub: p}
}

func (s *PubSub) Name() string { return "pubsub" }

// Write publishes the batch's diverging pairs and waits for all of them:
// the sink's own goroutine is the only one waiting, so the diff workers
// never do.
func (s *PubSub) Write(ctx context.Context, pairs []audit.Pair) error {
	var results []*pubsub.PublishResult
	var errs []error
	for _, p := range pairs {
		if !p.Class.Diverges() {
			continue
		}
		body, err := json.Marshal(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		results = append(results, s.pub.Publish(ctx, &pubsub.Message{
			Data: body,
			Attributes: map[string]string{
				"table": p.Record.GetTable(), "op": p.Record.GetOperation(), "class": string(p.Class), "id": p.Record.GetId(),
			},
		}))
	}
	for _, r := range results {
		if _, err := r.Get(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close flushes pending messages.
func (s *PubSub) Close(context.Context) error {
	s.pub.Stop()
	return nil
}
