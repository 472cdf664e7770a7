package dynamo

import "math"

// Consumed capacity as DynamoDB bills it: reads in 4 KB units (half for
// eventually consistent reads), writes in 1 KB units, at least one unit each.
type capacity struct {
	TableName              string                   `json:"TableName"`
	CapacityUnits          float64                  `json:"CapacityUnits"`
	ReadCapacityUnits      float64                  `json:"ReadCapacityUnits,omitempty"`
	WriteCapacityUnits     float64                  `json:"WriteCapacityUnits,omitempty"`
	Table                  *capacityUnits           `json:"Table,omitempty"`
	GlobalSecondaryIndexes map[string]capacityUnits `json:"GlobalSecondaryIndexes,omitempty"`
	LocalSecondaryIndexes  map[string]capacityUnits `json:"LocalSecondaryIndexes,omitempty"`
}

type capacityUnits struct {
	CapacityUnits      float64 `json:"CapacityUnits"`
	ReadCapacityUnits  float64 `json:"ReadCapacityUnits,omitempty"`
	WriteCapacityUnits float64 `json:"WriteCapacityUnits,omitempty"`
}

func readUnits(bytes int, consistent bool) float64 {
	u := math.Max(1, math.Ceil(float64(bytes)/4096))
	if !consistent {
		u /= 2
	}
	return u
}

func writeUnits(bytes int) float64 {
	return math.Max(1, math.Ceil(float64(bytes)/1024))
}

// consumed renders ReturnConsumedCapacity for one table; nil when not asked.
func consumed(mode, table string, units float64) *capacity {
	switch mode {
	case "TOTAL":
		return &capacity{TableName: table, CapacityUnits: units}
	case "INDEXES":
		return &capacity{TableName: table, CapacityUnits: units, Table: &capacityUnits{CapacityUnits: units}}
	}
	return nil
}

// consumedList renders ReturnConsumedCapacity for several tables (batch and
// transaction operations), in table-name order; nil when not asked.
func consumedList(mode string, units map[string]float64) []*capacity {
	if mode != "TOTAL" && mode != "INDEXES" {
		return nil
	}
	caps := make([]*capacity, 0, len(units))
	for _, name := range sortedTables(units) {
		caps = append(caps, consumed(mode, name, units[name]))
	}
	return caps
}
