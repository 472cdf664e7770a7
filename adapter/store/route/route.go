// Package route serves one store.Store from several backends, table by table.
//
// A space's backend is part of its name: "spanner__t0123..." lives on the
// backend registered as "spanner", and a space without such a prefix (the
// catalog, for instance) on the home backend. The executor picks the prefix
// when it creates a table's spaces (dynamo.Options.Placement), so routing
// needs no lookup and survives restarts.
//
// A transaction runs on exactly one backend. Update starts it on the home
// backend; if fn touches a space of another backend, the attempt is abandoned
// before anything is written and fn runs again there. A transaction that
// needs two backends fails with ErrCrossBackend: no backend pair here offers
// an atomic commit across both.
package route

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strings"

	"github.com/dualread/dualread/adapter/store"
)

// Separator ends a backend prefix in a space name.
const Separator = "__"

// ErrCrossBackend is returned by Update when fn touches spaces of two backends.
var ErrCrossBackend = store.ErrCrossBackend

// Router is a store.Store over named backends.
type Router struct {
	home     string
	backends map[string]store.Store
}

// New routes unprefixed spaces to home and "name__..." spaces to backends[name].
func New(home string, backends map[string]store.Store) (*Router, error) {
	if _, ok := backends[home]; !ok {
		return nil, fmt.Errorf("route: home backend %q is not among the backends", home)
	}
	for name := range backends {
		if name == "" || strings.Contains(name, Separator) {
			return nil, fmt.Errorf("route: bad backend name %q", name)
		}
	}
	return &Router{home: home, backends: backends}, nil
}

// Prefix is the space-name prefix that places a space on backend name.
func Prefix(name string) string { return name + Separator }

// owner names the backend that holds space.
func (r *Router) owner(space string) string {
	if name, _, ok := strings.Cut(space, Separator); ok {
		if _, known := r.backends[name]; known {
			return name
		}
	}
	return r.home
}

func (r *Router) of(space string) store.Store { return r.backends[r.owner(space)] }

func (r *Router) CreateSpace(ctx context.Context, space string) error {
	return r.of(space).CreateSpace(ctx, space)
}

func (r *Router) DropSpace(ctx context.Context, space string) error {
	return r.of(space).DropSpace(ctx, space)
}

func (r *Router) Get(ctx context.Context, space string, key []byte) ([]byte, bool, error) {
	return r.of(space).Get(ctx, space, key)
}

func (r *Router) Scan(ctx context.Context, space string, rg store.Range) iter.Seq2[store.Row, error] {
	return r.of(space).Scan(ctx, space, rg)
}

// errForeign abandons an attempt that touched another backend's space.
var errForeign = errors.New("route: foreign space")

func (r *Router) Update(ctx context.Context, fn func(ctx context.Context, tx store.Txn) error) error {
	name := r.home
	tried := map[string]bool{}
	for {
		tried[name] = true
		rt := &txn{r: r, backend: name}
		err := r.backends[name].Update(ctx, func(ctx context.Context, tx store.Txn) error {
			rt.tx, rt.foreign = tx, ""
			err := fn(ctx, rt)
			if rt.foreign != "" {
				return errForeign
			}
			return err
		})
		if !errors.Is(err, errForeign) {
			return err
		}
		if tried[rt.foreign] {
			return ErrCrossBackend
		}
		name = rt.foreign
	}
}

// Close closes every backend and returns the first error.
func (r *Router) Close() error {
	var first error
	for _, name := range r.names() {
		if err := r.backends[name].Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (r *Router) names() []string {
	out := make([]string, 0, len(r.backends))
	for n := range r.backends {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Sweep runs the housekeeping of every backend that has some.
func (r *Router) Sweep(ctx context.Context) (int, error) {
	total := 0
	for _, name := range r.names() {
		if sw, ok := r.backends[name].(interface {
			Sweep(context.Context) (int, error)
		}); ok {
			n, err := sw.Sweep(ctx)
			total += n
			if err != nil {
				return total, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return total, nil
}

// txn confines one attempt to one backend, noting the first foreign space.
type txn struct {
	r       *Router
	backend string
	tx      store.Txn
	foreign string
}

func (t *txn) local(space string) bool {
	o := t.r.owner(space)
	if o == t.backend {
		return true
	}
	if t.foreign == "" {
		t.foreign = o
	}
	return false
}

func (t *txn) Get(ctx context.Context, space string, key []byte) ([]byte, bool, error) {
	if !t.local(space) {
		return nil, false, errForeign
	}
	return t.tx.Get(ctx, space, key)
}

func (t *txn) Put(space string, key, value []byte) {
	if t.local(space) {
		t.tx.Put(space, key, value)
	}
}

func (t *txn) Delete(space string, key []byte) {
	if t.local(space) {
		t.tx.Delete(space, key)
	}
}
