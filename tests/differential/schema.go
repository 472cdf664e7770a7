package differential

// Index is a secondary index of a generated table.
type Index struct {
	Name             string
	Hash, HashType   string
	Range, RangeType string
	Projection       string   // ALL, KEYS_ONLY or INCLUDE
	NonKey           []string // for INCLUDE
	Global           bool
}

// Table is one table the differential run creates on both sides.
type Table struct {
	Name             string
	Hash, HashType   string
	Range, RangeType string
	Indexes          []Index
}

// Tables returns the run's tables, named with prefix: hash-only, hash+range
// with S and N sort keys, one with an LSI and a GSI, and binary keys.
func Tables(prefix string) []Table {
	return []Table{
		{Name: prefix + "hash", Hash: "pk", HashType: "S"},
		{Name: prefix + "rs", Hash: "pk", HashType: "S", Range: "sk", RangeType: "S"},
		{Name: prefix + "rn", Hash: "pk", HashType: "S", Range: "sk", RangeType: "N"},
		{Name: prefix + "idx", Hash: "pk", HashType: "S", Range: "sk", RangeType: "S", Indexes: []Index{
			{Name: "lsi1", Hash: "pk", HashType: "S", Range: "lsk", RangeType: "N", Projection: "INCLUDE", NonKey: []string{"s", "n"}},
			{Name: "gsi1", Hash: "gpk", HashType: "S", Range: "gsk", RangeType: "N", Projection: "ALL", Global: true},
		}},
		{Name: prefix + "bin", Hash: "pk", HashType: "B", Range: "sk", RangeType: "B"},
	}
}

// CreateTableRequest is the CreateTable body for t.
func (t Table) CreateTableRequest() map[string]any {
	defs := map[string]string{t.Hash: t.HashType}
	if t.Range != "" {
		defs[t.Range] = t.RangeType
	}
	req := map[string]any{"TableName": t.Name, "BillingMode": "PAY_PER_REQUEST", "KeySchema": keySchema(t.Hash, t.Range)}
	var lsis, gsis []any
	for _, ix := range t.Indexes {
		defs[ix.Hash] = ix.HashType
		defs[ix.Range] = ix.RangeType
		proj := map[string]any{"ProjectionType": ix.Projection}
		if len(ix.NonKey) > 0 {
			proj["NonKeyAttributes"] = ix.NonKey
		}
		d := map[string]any{"IndexName": ix.Name, "KeySchema": keySchema(ix.Hash, ix.Range), "Projection": proj}
		if ix.Global {
			gsis = append(gsis, d)
		} else {
			lsis = append(lsis, d)
		}
	}
	var ad []any
	for _, n := range sortedKeys(defs) {
		ad = append(ad, map[string]any{"AttributeName": n, "AttributeType": defs[n]})
	}
	req["AttributeDefinitions"] = ad
	if lsis != nil {
		req["LocalSecondaryIndexes"] = lsis
	}
	if gsis != nil {
		req["GlobalSecondaryIndexes"] = gsis
	}
	return req
}

func keySchema(hash, rng string) []any {
	ks := []any{map[string]any{"AttributeName": hash, "KeyType": "HASH"}}
	if rng != "" {
		ks = append(ks, map[string]any{"AttributeName": rng, "KeyType": "RANGE"})
	}
	return ks
}
