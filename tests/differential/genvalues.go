package differential

import (
	"encoding/base64"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Gen produces the random operation sequence. Everything it generates comes
// from rng, so a seed reproduces a run exactly.
type Gen struct {
	rng    *rand.Rand
	tables []Table
	run    uint32 // tags this run's ClientRequestTokens
}

// NewGen returns a generator over tables seeded with seed.
func NewGen(seed uint64, tables []Table) *Gen {
	// DynamoDB remembers ClientRequestTokens per endpoint, not per table, so
	// tokens carry a tag of this run's (uniquely named) tables: two runs with
	// one seed against one DynamoDB Local must not share tokens.
	h := fnv.New32a()
	for _, t := range tables {
		h.Write([]byte(t.Name))
	}
	return &Gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), tables: tables, run: h.Sum32()}
}

func (g *Gen) chance(p float64) bool { return g.rng.Float64() < p }
func (g *Gen) intn(n int) int        { return g.rng.IntN(n) }

func pick[T any](g *Gen, xs []T) T { return xs[g.rng.IntN(len(xs))] }

// Small key spaces so items are overwritten, updated and deleted many times.
var (
	hashKeysS = []string{"p0", "p1", "p2", "p3"}
	sortKeysS = []string{"a", "ab", "abc", "b", "bé", "c", "z"}
	// "100" and "1e2" name the same key: the sides must agree on that.
	sortKeysN = []string{"-2.25", "-1", "0", "1.5", "10", "100", "1e2", "12345678901234567890"}
	binKeys   = [][]byte{{0}, {0, 1}, {1}, {0x7f}, {0xff}, {0xff, 0}}
	gsiHashes = []string{"g0", "g1", "g2"}
	indexNums = []string{"1", "2", "3", "-1", "2.5"}
)

// Numbers with spellings DynamoDB must canonicalise, and its extremes.
var numberPool = []string{
	"0", "1", "-1", "42", "3.14", "-0.5", "1.50", "100", "1e2", "-5E-3", "0.000001",
	"12345678901234567890123456789012345678", "-12345678901234567890123456789012345678",
	"9.9999999999999999999999999999999999999E+125", "-9.9999999999999999999999999999999999999E+125",
	"1E-130", "-1E-130", "0.1", "007", "2.50E+3",
}

var stringPool = []string{"", "x", "hello", "hello world", "αβγ", "日本", "a\"quote", "tab\tnew\nline", "he", "😀", "HELLO", "0"}

func (g *Gen) num() string {
	if g.chance(0.4) {
		return strconv.Itoa(g.intn(200) - 100)
	}
	return pick(g, numberPool)
}

func (g *Gen) str() string {
	if g.chance(0.3) {
		return "s" + strconv.Itoa(g.intn(20))
	}
	return pick(g, stringPool)
}

func (g *Gen) bytes() string {
	b := make([]byte, g.intn(6))
	for i := range b {
		b[i] = byte(g.intn(256))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func avS(s string) map[string]any { return map[string]any{"S": s} }
func avN(s string) map[string]any { return map[string]any{"N": s} }
func avB(b []byte) map[string]any {
	return map[string]any{"B": base64.StdEncoding.EncodeToString(b)}
}

// uniq draws n distinct values from f (sets must not hold duplicates;
// numerically equal spellings count as duplicates for NS).
func (g *Gen) uniq(n int, f func() string, canon func(string) string) []any {
	seen := map[string]bool{}
	var out []any
	for i := 0; i < n*4 && len(out) < n; i++ {
		v := f()
		k := canon(v)
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}

func ident(s string) string { return s }

func (g *Gen) nonEmptyStr() string {
	if s := g.str(); s != "" {
		return s
	}
	return "e"
}

func (g *Gen) ss() map[string]any {
	return map[string]any{"SS": g.uniq(1+g.intn(3), g.nonEmptyStr, ident)}
}
func (g *Gen) ns() map[string]any {
	return map[string]any{"NS": g.uniq(1+g.intn(3), g.num, canonicalNumber)}
}
func (g *Gen) bs() map[string]any {
	return map[string]any{"BS": g.uniq(1+g.intn(3), g.bytes, ident)}
}

// anyValue is a random AttributeValue of any type, nested up to depth.
func (g *Gen) anyValue(depth int) map[string]any {
	k := g.intn(11)
	if depth <= 0 && k >= 9 {
		k = g.intn(9)
	}
	switch k {
	case 0, 1:
		return avS(g.str())
	case 2:
		return avN(g.num())
	case 3:
		return map[string]any{"B": g.bytes()}
	case 4:
		return map[string]any{"BOOL": g.chance(0.5)}
	case 5:
		return map[string]any{"NULL": true}
	case 6:
		return g.ss()
	case 7:
		return g.ns()
	case 8:
		return g.bs()
	case 9:
		return map[string]any{"M": g.mapValue(depth - 1)}
	default:
		return map[string]any{"L": g.listValue(depth - 1)}
	}
}

var mapKeys = []string{"x", "y", "k", "status", "deep"}

func (g *Gen) mapValue(depth int) map[string]any {
	m := map[string]any{}
	for i, n := 0, g.intn(4); i < n; i++ {
		m[pick(g, mapKeys)] = g.anyValue(depth)
	}
	return m
}

func (g *Gen) listValue(depth int) []any {
	l := []any{}
	for i, n := 0, g.intn(4); i < n; i++ {
		l = append(l, g.anyValue(depth))
	}
	return l
}

// typedAttr gives each well-known attribute its usual type, so that most
// update and condition expressions written for it are valid.
func (g *Gen) typedAttr(name string) map[string]any {
	switch name {
	case "n":
		return avN(g.num())
	case "s", "status":
		return avS(g.str())
	case "b":
		return map[string]any{"B": g.bytes()}
	case "f":
		return map[string]any{"BOOL": g.chance(0.5)}
	case "z":
		return map[string]any{"NULL": true}
	case "tags":
		return g.ss()
	case "nums":
		return g.ns()
	case "bins":
		return g.bs()
	case "l":
		return map[string]any{"L": g.listValue(2)}
	case "m":
		return map[string]any{"M": g.mapValue(2)}
	case "gpk":
		return avS(pick(g, gsiHashes))
	case "gsk", "lsk":
		return avN(pick(g, indexNums))
	default:
		return g.anyValue(3)
	}
}

var itemAttrs = []string{"n", "s", "status", "b", "f", "z", "tags", "nums", "bins", "l", "m", "v", "w"}

// key is a random primary key of t.
func (g *Gen) key(t Table) map[string]any {
	k := map[string]any{t.Hash: g.keyValue(t.HashType, false)}
	if t.Range != "" {
		k[t.Range] = g.keyValue(t.RangeType, true)
	}
	return k
}

func (g *Gen) keyValue(typ string, sort bool) map[string]any {
	switch {
	case typ == "B":
		return avB(pick(g, binKeys))
	case typ == "N":
		return avN(pick(g, sortKeysN))
	case sort:
		return avS(pick(g, sortKeysS))
	default:
		return avS(pick(g, hashKeysS))
	}
}

// item is a random item for t: its key plus a random subset of attributes;
// index key attributes are present on tables with indexes (sometimes absent,
// to make sparse indexes).
func (g *Gen) item(t Table) map[string]any {
	it := g.key(t)
	for _, a := range itemAttrs {
		// m and l are usually there so nested updates usually find them.
		if g.chance(0.45) || (a == "m" || a == "l") && g.chance(0.6) {
			it[a] = g.typedAttr(a)
		}
	}
	for _, ix := range t.Indexes {
		for _, a := range []string{ix.Hash, ix.Range} {
			if _, isKey := it[a]; !isKey && g.chance(0.8) {
				it[a] = g.typedAttr(a)
			}
		}
	}
	return it
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func keyString(table string, k map[string]any) string {
	var b strings.Builder
	b.WriteString(table)
	for _, n := range sortedKeys(k) {
		b.WriteString("|" + n + "=" + CanonicalString(normalizeAV(k[n])))
	}
	return b.String()
}
