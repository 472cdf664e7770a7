package testenv

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
)

// TestPubSub publishes through the official v2 client to the in-process
// fake and receives the messages back through a subscription.
func TestPubSub(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := NewPubSub(t)
	const project = "dualread-test"
	c, err := pubsub.NewClient(ctx, project, EmulatorClientOptions(srv.Addr)...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	topic := "projects/" + project + "/topics/changes"
	sub := "projects/" + project + "/subscriptions/changes-sub"
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: topic}); err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}

	pub := c.Publisher(topic)
	defer pub.Stop()
	want := []string{"one", "two", "three"}
	for _, m := range want {
		if _, err := pub.Publish(ctx, &pubsub.Message{Data: []byte(m), Attributes: map[string]string{"table": "items"}}).Get(ctx); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	if n := len(srv.Messages()); n != len(want) {
		t.Fatalf("fake holds %d messages, want %d", n, len(want))
	}

	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var mu sync.Mutex
	var got []string
	err = c.Subscriber(sub).Receive(rctx, func(_ context.Context, m *pubsub.Message) {
		mu.Lock()
		defer mu.Unlock()
		if m.Attributes["table"] != "items" {
			t.Errorf("attributes %v lost", m.Attributes)
		}
		got = append(got, string(m.Data))
		m.Ack()
		if len(got) == len(want) {
			stop()
		}
	})
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(got)
	sorted := slices.Clone(want)
	slices.Sort(sorted)
	if !slices.Equal(got, sorted) {
		t.Fatalf("received %q, want %q", got, sorted)
	}
}
