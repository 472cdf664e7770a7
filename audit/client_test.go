package audit

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/dualread/dualread/proto/auditpb"
)

// TestClientToServer: records submitted to the client reach the service over
// gRPC; with the service gone, Submit still returns at once and the loss is
// counted.
func TestClientToServer(t *testing.T) {
	svc, err := NewService(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	svc.RegisterGRPC(gs)
	go gs.Serve(ln)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := NewClient(auditpb.NewAuditClient(conn), ClientConfig{Every: 20 * time.Millisecond, Timeout: time.Second})
	for i := range 50 {
		c.Submit(&auditpb.Record{Id: string(rune('a' + i%26)), Table: "t", Operation: "GetItem",
			Primary: &auditpb.Response{Status: 200, Outcome: &auditpb.Response_BodyJson{BodyJson: []byte(`{}`)}},
			Shadow:  &auditpb.Response{Status: 200, Outcome: &auditpb.Response_BodyJson{BodyJson: []byte(`{}`)}}})
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().Sent < 50 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := c.Stats(); st.Sent != 50 || st.Dropped != 0 {
		t.Fatalf("client stats %+v, want 50 sent", st)
	}
	gs.Stop()
	svc.Close(context.Background())
	start := time.Now()
	for range 20 {
		c.Submit(&auditpb.Record{Id: "x"})
	}
	if time.Since(start) > 100*time.Millisecond {
		t.Error("Submit blocked with the service down")
	}
	c.Close()
	if st := c.Stats(); st.Dropped != 20 || st.Failures == 0 {
		t.Errorf("after the service stopped: %+v, want 20 dropped and a failure", st)
	}
}
