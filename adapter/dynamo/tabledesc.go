package dynamo

import (
	"encoding/json"

	"github.com/dualread/dualread/adapter/attr"
)

// Wire shapes of table descriptions. They double as the catalog's stored form,
// so what DescribeTable returns is exactly what CreateTable recorded.

type KeySchemaElement struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

type AttributeDefinition struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

type Projection struct {
	ProjectionType   string   `json:"ProjectionType,omitempty"`
	NonKeyAttributes []string `json:"NonKeyAttributes,omitempty"`
}

type ProvisionedThroughput struct {
	ReadCapacityUnits  int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits int64 `json:"WriteCapacityUnits"`
}

type ProvisionedThroughputDescription struct {
	LastIncreaseDateTime   epochTime `json:"LastIncreaseDateTime"`
	LastDecreaseDateTime   epochTime `json:"LastDecreaseDateTime"`
	NumberOfDecreasesToday int64     `json:"NumberOfDecreasesToday"`
	ReadCapacityUnits      int64     `json:"ReadCapacityUnits"`
	WriteCapacityUnits     int64     `json:"WriteCapacityUnits"`
}

type BillingModeSummary struct {
	BillingMode                       string    `json:"BillingMode"`
	LastUpdateToPayPerRequestDateTime epochTime `json:"LastUpdateToPayPerRequestDateTime,omitempty"`
}

type IndexDescription struct {
	IndexName             string                            `json:"IndexName"`
	KeySchema             []KeySchemaElement                `json:"KeySchema"`
	Projection            Projection                        `json:"Projection"`
	IndexStatus           string                            `json:"IndexStatus,omitempty"`
	ProvisionedThroughput *ProvisionedThroughputDescription `json:"ProvisionedThroughput,omitempty"`
	IndexSizeBytes        int64                             `json:"IndexSizeBytes"`
	ItemCount             int64                             `json:"ItemCount"`
	IndexArn              string                            `json:"IndexArn"`
}

type StreamSpecification struct {
	StreamEnabled  bool   `json:"StreamEnabled"`
	StreamViewType string `json:"StreamViewType,omitempty"`
}

type TableDescription struct {
	AttributeDefinitions      []AttributeDefinition             `json:"AttributeDefinitions"`
	TableName                 string                            `json:"TableName"`
	KeySchema                 []KeySchemaElement                `json:"KeySchema"`
	TableStatus               string                            `json:"TableStatus"`
	CreationDateTime          epochTime                         `json:"CreationDateTime"`
	ProvisionedThroughput     *ProvisionedThroughputDescription `json:"ProvisionedThroughput,omitempty"`
	TableSizeBytes            int64                             `json:"TableSizeBytes"`
	ItemCount                 int64                             `json:"ItemCount"`
	TableArn                  string                            `json:"TableArn"`
	TableId                   string                            `json:"TableId,omitempty"`
	BillingModeSummary        *BillingModeSummary               `json:"BillingModeSummary,omitempty"`
	LocalSecondaryIndexes     []IndexDescription                `json:"LocalSecondaryIndexes,omitempty"`
	GlobalSecondaryIndexes    []IndexDescription                `json:"GlobalSecondaryIndexes,omitempty"`
	StreamSpecification       *StreamSpecification              `json:"StreamSpecification,omitempty"`
	DeletionProtectionEnabled bool                              `json:"DeletionProtectionEnabled"`
}

// epochTime is seconds since the epoch with millisecond fraction, as DynamoDB
// renders timestamps (e.g. 1795347079.129).
type epochTime float64

func (t epochTime) MarshalJSON() ([]byte, error) {
	return []byte(formatEpoch(float64(t))), nil
}

func formatEpoch(f float64) string {
	b, _ := json.Marshal(json.Number(trimFloat(f)))
	return string(b)
}

func trimFloat(f float64) string {
	ms := int64(f*1000 + 0.5)
	sec, frac := ms/1000, ms%1000
	return itoa(sec) + "." + pad3(frac)
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func pad3(n int64) string {
	s := itoa(n)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}

// keySchema is the resolved key of a table or index.
type keySchema struct {
	Hash, Range         string
	HashType, RangeType attr.Type
}

func (k keySchema) names() []string {
	if k.Range == "" {
		return []string{k.Hash}
	}
	return []string{k.Hash, k.Range}
}

// schemaOf resolves key names and types from a key schema and the table's attribute definitions.
func schemaOf(ks []KeySchemaElement, defs []AttributeDefinition) keySchema {
	typeOf := func(name string) attr.Type {
		for _, d := range defs {
			if d.AttributeName == name {
				return attr.ParseType(d.AttributeType)
			}
		}
		return attr.TypeInvalid
	}
	var s keySchema
	for _, e := range ks {
		switch e.KeyType {
		case "HASH":
			s.Hash, s.HashType = e.AttributeName, typeOf(e.AttributeName)
		case "RANGE":
			s.Range, s.RangeType = e.AttributeName, typeOf(e.AttributeName)
		}
	}
	return s
}
