package verify

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// stateVersion and stateScheme name the file format and the functions
// behind its numbers (FNV-1a buckets of the key encoding, SHA-256 of the
// canonical item JSON): a state written under other ones cannot be resumed.
const (
	stateVersion = 1
	stateScheme  = "fnv32a-keyenc/sha256-canonical-json"
	sumSize      = 8 + 32 // bucketSum on disk: count (big endian) and XOR
)

// stateFile is the state file's JSON. Cursors are the current pass's, by
// side (source, target) then segment; pass 1's are dropped when pass 2
// begins, its result kept in the totals and Differing.
type stateFile struct {
	Version     int              `json:"version"`
	Scheme      string           `json:"scheme"`
	Table       string           `json:"table"`
	TargetTable string           `json:"target_table"`
	Buckets     int              `json:"buckets"`
	Segments    int              `json:"segments"`
	StartedAt   time.Time        `json:"started_at"`
	SavedAt     time.Time        `json:"saved_at"`
	Elapsed     time.Duration    `json:"elapsed_ns"`
	Pass        int              `json:"pass"`
	SourceItems int64            `json:"source_items,omitempty"`
	TargetItems int64            `json:"target_items,omitempty"`
	Differing   []int            `json:"differing,omitempty"`
	Cursors     [2][]cursorState `json:"cursors"`
}

type cursorState struct {
	Last  json.RawMessage `json:"last,omitempty"`
	Done  bool            `json:"done,omitempty"`
	Items int64           `json:"items"`
	// Sums (pass 1): Buckets × (count, XOR), sumSize bytes each.
	Sums []byte `json:"sums,omitempty"`
	// Entries (pass 2): (uvarint key length, key, digest) sorted by key.
	Entries []byte `json:"entries,omitempty"`
}

func (c *cursor) state() cursorState {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := cursorState{Last: c.last, Done: c.done, Items: c.items}
	if c.pass == 1 {
		cs.Sums = make([]byte, 0, len(c.sums)*sumSize)
		for i := range c.sums {
			cs.Sums = binary.BigEndian.AppendUint64(cs.Sums, uint64(c.sums[i].n))
			cs.Sums = append(cs.Sums, c.sums[i].xor[:]...)
		}
		return cs
	}
	keys := make([]string, 0, len(c.entries))
	for k := range c.entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dg := c.entries[k]
		cs.Entries = binary.AppendUvarint(cs.Entries, uint64(len(k)))
		cs.Entries = append(cs.Entries, k...)
		cs.Entries = append(cs.Entries, dg[:]...)
	}
	return cs
}

func (cs cursorState) cursor(pass, buckets int) (*cursor, error) {
	c := newCursor(pass, buckets)
	c.last, c.done, c.items = cs.Last, cs.Done, cs.Items
	if !c.done && len(c.last) == 0 && c.items > 0 {
		return nil, errors.New("unfinished segment without a position")
	}
	if pass == 1 {
		if len(cs.Sums) != buckets*sumSize {
			return nil, fmt.Errorf("%d bytes of bucket sums, want %d", len(cs.Sums), buckets*sumSize)
		}
		for i := range c.sums {
			b := cs.Sums[i*sumSize:]
			c.sums[i].n = int64(binary.BigEndian.Uint64(b))
			copy(c.sums[i].xor[:], b[8:sumSize])
		}
		return c, nil
	}
	for b := cs.Entries; len(b) > 0; {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) || uint64(len(b)-w)-n < 32 { // n+32 could overflow
			return nil, errors.New("truncated entries")
		}
		key := string(b[w : w+int(n)])
		var dg [32]byte
		copy(dg[:], b[w+int(n):])
		c.entries[key] = dg
		b = b[w+int(n)+32:]
	}
	return c, nil
}

// loadOrInit resumes from the state file if there is one (and Fresh is
// not set), else starts pass 1.
func (r *run) loadOrInit() error {
	r.hdr = header{StartedAt: r.start, Pass: 1}
	if r.cfg.StateFile == "" || r.cfg.Fresh {
		r.newCursors(1)
		return nil
	}
	b, err := os.ReadFile(r.cfg.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		r.newCursors(1)
		return nil
	}
	if err != nil {
		return fmt.Errorf("verify: read state: %w", err)
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("verify: state file %s is not readable (%v); remove it or pass --fresh", r.cfg.StateFile, err)
	}
	if err := r.compatible(&st); err != nil {
		return fmt.Errorf("verify: state file %s %w; remove it or pass --fresh", r.cfg.StateFile, err)
	}
	r.hdr = header{StartedAt: st.StartedAt, Elapsed: st.Elapsed, Pass: st.Pass,
		SourceItems: st.SourceItems, TargetItems: st.TargetItems, Differing: st.Differing}
	if st.Pass == 2 {
		r.differing = map[int]bool{}
		for _, b := range st.Differing {
			if b < 0 || b >= r.cfg.Buckets {
				return fmt.Errorf("verify: state file %s: bucket %d out of range", r.cfg.StateFile, b)
			}
			r.differing[b] = true
		}
	}
	for s := range 2 {
		r.cursors[s] = make([]*cursor, r.cfg.Segments)
		for seg, cs := range st.Cursors[s] {
			if r.cursors[s][seg], err = cs.cursor(st.Pass, r.cfg.Buckets); err != nil {
				return fmt.Errorf("verify: state file %s: side %d segment %d: %w", r.cfg.StateFile, s, seg, err)
			}
		}
	}
	r.resumed = true
	r.log.Info("verify: resuming", "file", r.cfg.StateFile, "pass", st.Pass, "saved_at", st.SavedAt,
		"age", time.Since(st.SavedAt).Round(time.Second), "source_read", sumItems(st.Cursors[0]), "target_read", sumItems(st.Cursors[1]))
	return nil
}

// compatible checks that st was written for this comparison.
func (r *run) compatible(st *stateFile) error {
	switch {
	case st.Version != stateVersion || st.Scheme != stateScheme:
		return fmt.Errorf("has format %d/%q, this build writes %d/%q", st.Version, st.Scheme, stateVersion, stateScheme)
	case st.Table != r.cfg.Table || st.TargetTable != r.cfg.TargetTable:
		return fmt.Errorf("is for table %s (target %s), not %s (target %s)", st.Table, st.TargetTable, r.cfg.Table, r.cfg.TargetTable)
	case st.Buckets != r.cfg.Buckets || st.Segments != r.cfg.Segments:
		return fmt.Errorf("was written with --buckets %d --segments %d, not %d and %d", st.Buckets, st.Segments, r.cfg.Buckets, r.cfg.Segments)
	case st.Pass != 1 && st.Pass != 2:
		return fmt.Errorf("has pass %d", st.Pass)
	case len(st.Cursors[0]) != st.Segments || len(st.Cursors[1]) != st.Segments:
		return fmt.Errorf("holds %d and %d segments, want %d", len(st.Cursors[0]), len(st.Cursors[1]), st.Segments)
	}
	return nil
}

func sumItems(cs []cursorState) int64 {
	var n int64
	for _, c := range cs {
		n += c.Items
	}
	return n
}

// save writes the state atomically: to a temporary file, fsynced, renamed
// over the old one, and the folder fsynced, so a crash at any moment leaves
// either the previous state or this one.
func (r *run) save() error {
	if r.cfg.StateFile == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := stateFile{Version: stateVersion, Scheme: stateScheme, Table: r.cfg.Table, TargetTable: r.cfg.TargetTable,
		Buckets: r.cfg.Buckets, Segments: r.cfg.Segments, StartedAt: r.hdr.StartedAt, SavedAt: time.Now().UTC(),
		Elapsed: r.hdr.Elapsed + time.Since(r.start), Pass: r.hdr.Pass,
		SourceItems: r.hdr.SourceItems, TargetItems: r.hdr.TargetItems, Differing: r.hdr.Differing}
	for s := range 2 {
		st.Cursors[s] = make([]cursorState, len(r.cursors[s]))
		for seg, c := range r.cursors[s] {
			st.Cursors[s][seg] = c.state()
		}
	}
	b, err := json.Marshal(&st)
	if err != nil {
		return err
	}
	return writeAtomic(r.cfg.StateFile, b)
}

func writeAtomic(path string, b []byte) error {
	// One writer per state file, so a fixed temporary name is safe, and it
	// replaces whatever a killed run left half-written.
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// StateInfo summarises a state file, for operators and tests deciding
// whether a run has made progress.
type StateInfo struct {
	Table        string
	Pass         int // 1: digests, 2: differing buckets
	Read         [2]int64
	SegmentsDone [2]int
	Segments     int
	Differing    int // buckets, known from pass 2 on
	SavedAt      time.Time
	Elapsed      time.Duration
}

// ReadState reads a state file's summary.
func ReadState(path string) (StateInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return StateInfo{}, err
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return StateInfo{}, fmt.Errorf("verify: state file %s: %w", path, err)
	}
	info := StateInfo{Table: st.Table, Pass: st.Pass, Segments: st.Segments, Differing: len(st.Differing),
		SavedAt: st.SavedAt, Elapsed: st.Elapsed}
	for s := range 2 {
		info.Read[s] = sumItems(st.Cursors[s])
		for _, c := range st.Cursors[s] {
			if c.Done {
				info.SegmentsDone[s]++
			}
		}
	}
	return info, nil
}
