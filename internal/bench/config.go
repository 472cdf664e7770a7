package bench

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Operation names a Mix may weigh; they are the DynamoDB API names.
const (
	OpGetItem      = "GetItem"
	OpPutItem      = "PutItem"
	OpUpdateItem   = "UpdateItem"
	OpQuery        = "Query"
	OpScan         = "Scan"
	OpBatchGetItem = "BatchGetItem"
)

// Operations lists every operation the workload can issue, in report order.
var Operations = []string{OpGetItem, OpPutItem, OpUpdateItem, OpQuery, OpScan, OpBatchGetItem}

// DefaultMix is the read-heavy mix used when Config.Mix is empty.
const DefaultMix = "GetItem=50,PutItem=30,Query=20"

// Bounds that keep a run from growing without limit whatever the flags say:
// this tool only ever loads loopback servers on a shared machine.
const (
	MaxConcurrency = 1024
	MaxDuration    = 30 * time.Minute
	MaxKeys        = 1_000_000
	MaxItemSize    = 350 * 1024 // under DynamoDB's 400 KB item limit with keys
	// DefaultMaxOps bounds the requests of a run when Config.MaxOps is 0.
	DefaultMaxOps = 10_000_000
)

// Config describes one load run against one endpoint.
type Config struct {
	Endpoint    string         // http://127.0.0.1:PORT of any DynamoDB-compatible endpoint (loopback only)
	Concurrency int            // workers, each with one request in flight; default 16
	Duration    time.Duration  // measured phase; default 10s
	Warmup      time.Duration  // unmeasured phase before it; 0 for none
	Mix         map[string]int // operation -> weight; default DefaultMix
	ItemSize    int            // bytes of the "payload" attribute per item; default 256
	Keys        int            // items preloaded before the run; default 1000
	// ItemsPerPartition is how many sort keys share one partition key, i.e.
	// how many items a Query may return; default 10.
	ItemsPerPartition int
	// QueryLimit and ScanLimit are the Limit of each Query and Scan; default 10.
	QueryLimit int
	ScanLimit  int
	Table      string // created if missing (pk S hash, sk S range); default "bench_load"
	// Keep leaves a table this run created in place; a table that existed
	// before the run is never deleted.
	Keep bool
	// SkipPreload uses the table's current items (e.g. a kept table).
	SkipPreload bool
	// MaxOps bounds the requests of warmup plus measured phase together
	// (preload is bounded by Keys instead); default DefaultMaxOps.
	MaxOps int64
	// RequestTimeout bounds each request; default 10s.
	RequestTimeout time.Duration
	Seed           uint64 // seeds the key and operation choice; 0 picks 1
	Region         string // default us-east-1
	// Rounds is used by Compare only: it runs the targets in turn this many
	// times (each round Warmup + Duration per target, the table kept between
	// rounds) and merges each target's rounds. Interleaving spreads a shared
	// machine's background load evenly over the targets; default 1.
	Rounds int

	keepForRounds bool // set by Compare: keep the table for the next round
	// raw is set by RunRaw: the load goes to a RawClient, not Endpoint.
	raw bool
	// adapterBackend is --backend as Flags.Config read it; Run refuses a
	// backend other than embedded, since only Compare (CompareTargets)
	// opens an adapter on an emulator.
	adapterBackend string
}

// withDefaults returns cfg with every zero field set to its default, or an
// error naming the first invalid field.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 16
	}
	if cfg.Duration == 0 {
		cfg.Duration = 10 * time.Second
	}
	if len(cfg.Mix) == 0 {
		cfg.Mix, _ = ParseMix(DefaultMix)
	}
	if cfg.ItemSize == 0 {
		cfg.ItemSize = 256
	}
	if cfg.Keys == 0 {
		cfg.Keys = 1000
	}
	if cfg.ItemsPerPartition == 0 {
		cfg.ItemsPerPartition = 10
	}
	if cfg.QueryLimit == 0 {
		cfg.QueryLimit = 10
	}
	if cfg.ScanLimit == 0 {
		cfg.ScanLimit = 10
	}
	if cfg.Table == "" {
		cfg.Table = "bench_load"
	}
	if cfg.MaxOps == 0 {
		cfg.MaxOps = DefaultMaxOps
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Rounds == 0 {
		cfg.Rounds = 1
	}
	switch {
	case cfg.Concurrency < 1 || cfg.Concurrency > MaxConcurrency:
		return cfg, fmt.Errorf("concurrency %d: want 1..%d", cfg.Concurrency, MaxConcurrency)
	case cfg.Duration < 0 || cfg.Duration > MaxDuration:
		return cfg, fmt.Errorf("duration %v: want up to %v", cfg.Duration, MaxDuration)
	case cfg.Warmup < 0 || cfg.Warmup > MaxDuration:
		return cfg, fmt.Errorf("warmup %v: want 0..%v", cfg.Warmup, MaxDuration)
	case cfg.ItemSize < 0 || cfg.ItemSize > MaxItemSize:
		return cfg, fmt.Errorf("item size %d: want 0..%d", cfg.ItemSize, MaxItemSize)
	case cfg.Keys < 1 || cfg.Keys > MaxKeys:
		return cfg, fmt.Errorf("keys %d: want 1..%d", cfg.Keys, MaxKeys)
	case cfg.ItemsPerPartition < 1:
		return cfg, fmt.Errorf("items per partition %d: want >= 1", cfg.ItemsPerPartition)
	case cfg.QueryLimit < 1 || cfg.ScanLimit < 1:
		return cfg, fmt.Errorf("query/scan limit must be >= 1")
	case cfg.MaxOps < 1:
		return cfg, fmt.Errorf("max ops %d: want >= 1", cfg.MaxOps)
	case cfg.Rounds < 1 || cfg.Rounds > 100:
		return cfg, fmt.Errorf("rounds %d: want 1..100", cfg.Rounds)
	case cfg.RequestTimeout < 0:
		return cfg, fmt.Errorf("request timeout %v: want > 0", cfg.RequestTimeout)
	}
	if err := validateMix(cfg.Mix); err != nil {
		return cfg, err
	}
	if cfg.raw {
		return cfg, nil
	}
	if err := checkLoopback(cfg.Endpoint); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// checkLoopback refuses any endpoint that is not on this machine: the load
// tool sends unthrottled traffic, which may only ever hit loopback servers.
func checkLoopback(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("endpoint %q: want http://127.0.0.1:PORT", endpoint)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("endpoint %q: the load tool only targets loopback addresses (127.0.0.0/8, ::1, localhost)", endpoint)
	}
	return nil
}

func validateMix(mix map[string]int) error {
	total := 0
	for op, w := range mix {
		if !isOperation(op) {
			return fmt.Errorf("mix: unknown operation %q (want one of %s)", op, strings.Join(Operations, ", "))
		}
		if w < 0 {
			return fmt.Errorf("mix: weight of %s is %d, want >= 0", op, w)
		}
		total += w
		if total > 1_000_000 {
			return fmt.Errorf("mix: weights add up to more than 1000000")
		}
	}
	if total == 0 {
		return fmt.Errorf("mix: weights add up to 0")
	}
	return nil
}

func isOperation(op string) bool {
	for _, o := range Operations {
		if o == op {
			return true
		}
	}
	return false
}

// ParseMix reads "GetItem=50,PutItem=30,Query=20" (the --mix flag). Operation
// names are case-insensitive; an operation named twice is an error.
func ParseMix(s string) (map[string]int, error) {
	mix := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, weight, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("mix: %q: want Operation=weight", part)
		}
		name = strings.TrimSpace(name)
		op := ""
		for _, o := range Operations {
			if strings.EqualFold(o, name) {
				op = o
			}
		}
		if op == "" {
			return nil, fmt.Errorf("mix: unknown operation %q (want one of %s)", name, strings.Join(Operations, ", "))
		}
		if _, dup := mix[op]; dup {
			return nil, fmt.Errorf("mix: %s given twice", op)
		}
		w, err := strconv.Atoi(strings.TrimSpace(weight))
		if err != nil || w < 0 {
			return nil, fmt.Errorf("mix: weight of %s is %q, want an integer >= 0", op, weight)
		}
		mix[op] = w
	}
	if err := validateMix(mix); err != nil {
		return nil, err
	}
	return mix, nil
}

// FormatMix writes a mix back in ParseMix's form, in report order.
func FormatMix(mix map[string]int) string {
	ops := make([]string, 0, len(mix))
	for op := range mix {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool { return opRank(ops[i]) < opRank(ops[j]) })
	parts := make([]string, 0, len(ops))
	for _, op := range ops {
		parts = append(parts, op+"="+strconv.Itoa(mix[op]))
	}
	return strings.Join(parts, ",")
}

// opRank orders operations as Operations does, unknown names last.
func opRank(op string) int {
	for i, o := range Operations {
		if o == op {
			return i
		}
	}
	return len(Operations)
}
