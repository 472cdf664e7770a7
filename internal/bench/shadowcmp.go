package bench

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/shadow"
	"github.com/dualread/dualread/audit"
	"github.com/dualread/dualread/audit/diff"
)

// Target names of a shadowing comparison (--compare-shadow).
const (
	TargetShadowOff = "adapter-shadow-off"
	TargetShadowOn  = "adapter-shadow-100"
)

// ShadowSetup is what OpenShadow started: two adapters on the embedded
// backend with the same configuration except that On re-sends every read
// (sample 1.0, no rate limit) to DynamoDB Local and hands both answers to an
// in-process audit service, as `dualread serve --audit embedded` does. The
// comparison of the two is the cost of shadowing to the served requests.
type ShadowSetup struct {
	Off, On  *adapter.Adapter
	Audit    *audit.Service
	Endpoint string // the shadow's DynamoDB Local

	local        *LocalProcess // nil when the endpoint was given
	dropShadowTb func()
}

// OpenShadow opens both adapters. dynamoURL is the shadow's DynamoDB Local,
// or DynamoDBLocalAuto to start one. cfg's table is created on DynamoDB
// Local and preloaded with the same items the load preloads on the
// adapters, so shadow reads find the data (the workload's writes go to the
// adapter only, as with `writes: serve`, so some pairs diverge later: the
// audit diffs those too). Close releases everything; on error nothing is
// left running.
func OpenShadow(ctx context.Context, dynamoURL string, cfg Config, log *slog.Logger) (_ *ShadowSetup, err error) {
	if log == nil {
		log = slog.Default()
	}
	s := &ShadowSetup{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	switch dynamoURL {
	case "", DynamoDBLocalAuto:
		p, err := LaunchDynamoDBLocal(ctx, log)
		if err != nil {
			return nil, err
		}
		s.local, s.Endpoint = p, p.Endpoint
	default:
		if err := checkLoopback(dynamoURL); err != nil {
			return nil, err
		}
		s.Endpoint = dynamoURL
	}
	cfg.Endpoint = s.Endpoint
	dcfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	client, tr := newClient(dcfg)
	created, err := ensureTable(ctx, client, dcfg, log)
	if created {
		s.dropShadowTb = func() {
			if derr := deleteTable(context.Background(), client, dcfg.Table); derr != nil {
				log.Warn("bench: shadow table left behind", "endpoint", s.Endpoint, "table", dcfg.Table, "err", derr)
			}
			tr.CloseIdleConnections()
		}
	}
	if err != nil {
		return nil, err
	}
	if err := preload(ctx, client, dcfg); err != nil {
		return nil, fmt.Errorf("bench: preload the shadow's DynamoDB Local: %w", err)
	}

	quiet := slog.New(levelFilter{log.Handler(), slog.LevelWarn}).With("component", "adapter")
	if s.Off, err = adapter.Open(ctx, adapter.Config{Backend: BackendEmbedded, Logger: quiet}); err != nil {
		return nil, fmt.Errorf("bench: open adapter: %w", err)
	}
	if s.Audit, err = audit.NewService(audit.Config{Logger: quiet}); err != nil {
		return nil, err
	}
	sink := &lateSink{}
	caller := shadow.NewDynamoDB(s.Endpoint, dcfg.Region, credentials.NewStaticCredentialsProvider("AKIDDUALREADBENCH", "dualread-bench-secret", ""))
	s.On, err = adapter.Open(ctx, adapter.Config{Backend: BackendEmbedded, Logger: quiet, Shadow: &adapter.ShadowConfig{
		Caller: caller, Sink: sink,
		Limits: shadow.Config{RatePerSec: -1, Sample: func(string) float64 { return 1 }},
	}})
	if err != nil {
		return nil, fmt.Errorf("bench: open shadowing adapter: %w", err)
	}
	on := s.On
	sink.to = shadow.AuditSink{Submitter: s.Audit, Keys: func(t string) []string { return on.Executor.KeyNames(context.Background(), t) }}
	log.Info("bench: shadow comparison", "dynamodb", s.Endpoint)
	return s, nil
}

// lateSink forwards to a sink set once the adapter (whose key names the
// audit sink needs) exists.
type lateSink struct{ to shadow.Sink }

func (l *lateSink) Submit(r shadow.Record) {
	if l.to != nil {
		l.to.Submit(r)
	}
}

// Targets are the two adapters, shadowing off first; the shadowing one
// reports its overhead against the other (Target.Baseline).
func (s *ShadowSetup) Targets() []Target {
	return []Target{
		{Name: TargetShadowOff, Handler: s.Off.Handler},
		{Name: TargetShadowOn, Handler: s.On.Handler, Baseline: TargetShadowOff, Notes: s.Summary},
	}
}

// Summary states what the shadow reader and the audit did, so a reader of
// the report sees whether every read was really shadowed and diffed.
func (s *ShadowSetup) Summary() string {
	if s.On == nil || s.On.Shadower == nil || s.Audit == nil {
		return ""
	}
	st, as := s.On.Shadower.Stats(), s.Audit.Stats()
	var classes []string
	for _, c := range diff.Classes {
		if n := as.Classes[c]; n > 0 {
			classes = append(classes, fmt.Sprintf("%s %d", c, n))
		}
	}
	return fmt.Sprintf("shadow reads (all rounds, warmup included): offered %d, sampled %d, sent %d, failed %d, dropped (queue full) %d, "+
		"rate-limited %d, shed by breaker %d; audit: accepted %d, dropped %d, classes: %s",
		st.Offered, st.Sampled, st.Sent, st.Failed, st.Dropped, st.RateLimited, st.ShedByBreaker,
		as.Accepted, as.Dropped, strings.Join(classes, ", "))
}

// Close stops the adapters, the audit and DynamoDB Local if it started it.
func (s *ShadowSetup) Close() {
	if s.On != nil {
		s.On.Close()
	}
	if s.Off != nil {
		s.Off.Close()
	}
	if s.Audit != nil {
		_ = s.Audit.Close(context.Background())
	}
	if s.dropShadowTb != nil {
		s.dropShadowTb()
	}
	if s.local != nil {
		s.local.Stop()
	}
}
