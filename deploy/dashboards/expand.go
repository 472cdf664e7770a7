package dashboards

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MinInterval is the datasource's timeInterval
// (deploy/grafana/provisioning/datasources/influxdb.yaml): Grafana never
// makes $__interval smaller, because the components flush every 10 s.
const MinInterval = 10 * time.Second

// MaxDataPoints is the number of points a panel asks for; Grafana uses the
// panel's width in pixels, a wide panel is about this.
const MaxDataPoints = 1000

// Interval is $__interval for a time range: the range over MaxDataPoints,
// rounded as Grafana rounds it, never below MinInterval.
func Interval(from, to time.Time) time.Duration {
	return max(roundInterval(to.Sub(from)/MaxDataPoints), MinInterval)
}

// roundInterval is Grafana's rangeutil.roundInterval: the raw interval
// snapped to a readable step.
func roundInterval(d time.Duration) time.Duration {
	ms := d.Milliseconds()
	steps := []struct{ below, step int64 }{
		{15, 10}, {35, 20}, {75, 50}, {150, 100}, {350, 200}, {750, 500},
		{1500, 1000}, {3500, 2000}, {7500, 5000}, {12500, 10000}, {17500, 15000},
		{25000, 20000}, {45000, 30000}, {90000, 60000}, {210000, 120000},
		{450000, 300000}, {750000, 600000}, {1050000, 900000}, {1500000, 1200000},
		{2700000, 1800000}, {5400000, 3600000}, {9000000, 7200000},
		{16200000, 10800000}, {32400000, 21600000}, {86400000, 43200000},
		{604800000, 86400000}, {1209600000, 604800000}, {2592000000, 1209600000},
	}
	if ms < 10 {
		return time.Millisecond
	}
	for _, s := range steps {
		if ms < s.below {
			return time.Duration(s.step) * time.Millisecond
		}
	}
	return 2592000000 * time.Millisecond
}

// influxDuration renders d as an InfluxQL duration literal in its largest
// exact unit ("10s", "2m", "1d").
func influxDuration(d time.Duration) string {
	units := []struct {
		suffix string
		size   time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}
	for _, u := range units {
		if d >= u.size && d%u.size == 0 {
			return strconv.FormatInt(int64(d/u.size), 10) + u.suffix
		}
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// ref matches Grafana's variable syntaxes: $name, ${name} (with an
// optional :format) and [[name]].
var ref = regexp.MustCompile(`\$(\w+)|\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]`)

// Expand replaces Grafana's macros in an InfluxQL query for the time range
// [from, to], as Grafana's InfluxDB datasource does:
//
//	$timeFilter                  time >= FROMms and time <= TOms
//	$__interval, $interval       Interval(from, to) as an InfluxQL duration
//	$__interval_ms               the same in milliseconds
//	$__from, $__to               the range in epoch milliseconds
//	$name, ${name}, [[name]]     template variable name, from vars
//
// Template variables are formatted for a regex match (the dashboards use
// "table" =~ /^$table$/): one value is regex-escaped, several become
// (a|b|c). A reference to anything else — an unknown macro or a variable
// vars lacks, or one with no values — is an error, so that a dashboard
// cannot reach Grafana with a query Grafana would send half-expanded.
func Expand(q string, from, to time.Time, vars map[string][]string) (string, error) {
	iv := Interval(from, to)
	var err error
	out := ref.ReplaceAllStringFunc(q, func(m string) string {
		sub := ref.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		switch name {
		case "timeFilter":
			return fmt.Sprintf("time >= %dms and time <= %dms", from.UnixMilli(), to.UnixMilli())
		case "__interval", "interval":
			return influxDuration(iv)
		case "__interval_ms":
			return strconv.FormatInt(iv.Milliseconds(), 10)
		case "__from":
			return strconv.FormatInt(from.UnixMilli(), 10)
		case "__to":
			return strconv.FormatInt(to.UnixMilli(), 10)
		}
		vals, ok := vars[name]
		if !ok || len(vals) == 0 {
			if err == nil {
				err = fmt.Errorf("query refers to $%s, which is neither a macro nor a variable with values", name)
			}
			return m
		}
		return regexValue(vals)
	})
	if err != nil {
		return "", err
	}
	return out, nil
}

// regexValue formats a variable's values as Grafana's InfluxDB datasource
// does inside /regex/: each escaped, several as an alternation.
func regexValue(vals []string) string {
	esc := make([]string, len(vals))
	for i, v := range vals {
		esc[i] = escapeRegex(v)
	}
	if len(esc) == 1 {
		return esc[0]
	}
	return "(" + strings.Join(esc, "|") + ")"
}

// escapeRegex backslash-escapes regex metacharacters and the / that ends an
// InfluxQL regex literal.
func escapeRegex(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\^$*+?.()|[]{}/`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
