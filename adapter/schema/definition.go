package schema

import (
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The JSON shapes of a table definition, as CreateTable takes them and
// DescribeTable returns them (the fields that define a table; status, sizes
// and timestamps are left out).

type keyElem struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

type attrDef struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

type projection struct {
	ProjectionType   string   `json:"ProjectionType"`
	NonKeyAttributes []string `json:"NonKeyAttributes,omitempty"`
}

type throughput struct {
	ReadCapacityUnits  int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits int64 `json:"WriteCapacityUnits"`
}

type indexDef struct {
	IndexName             string      `json:"IndexName"`
	KeySchema             []keyElem   `json:"KeySchema"`
	Projection            projection  `json:"Projection"`
	ProvisionedThroughput *throughput `json:"ProvisionedThroughput,omitempty"`
}

type tableDef struct {
	TableName              string     `json:"TableName"`
	KeySchema              []keyElem  `json:"KeySchema"`
	AttributeDefinitions   []attrDef  `json:"AttributeDefinitions"`
	GlobalSecondaryIndexes []indexDef `json:"GlobalSecondaryIndexes,omitempty"`
	LocalSecondaryIndexes  []indexDef `json:"LocalSecondaryIndexes,omitempty"`
}

// createTable is a CreateTable request.
type createTable struct {
	tableDef
	BillingMode               string      `json:"BillingMode"`
	ProvisionedThroughput     *throughput `json:"ProvisionedThroughput,omitempty"`
	DeletionProtectionEnabled bool        `json:"DeletionProtectionEnabled,omitempty"`
}

func (c createTable) definition() tableDef { return c.tableDef }

// createRequest rebuilds the CreateTable request of a described table.
func createRequest(t *types.TableDescription) createTable {
	c := createTable{BillingMode: "PROVISIONED"}
	c.TableName = deref(t.TableName)
	if t.BillingModeSummary != nil && t.BillingModeSummary.BillingMode == types.BillingModePayPerRequest {
		c.BillingMode = "PAY_PER_REQUEST"
	}
	provisioned := func(p *types.ProvisionedThroughputDescription) *throughput {
		if c.BillingMode != "PROVISIONED" {
			return nil
		}
		tp := &throughput{ReadCapacityUnits: 1, WriteCapacityUnits: 1}
		if p != nil {
			tp.ReadCapacityUnits = max(1, derefInt(p.ReadCapacityUnits))
			tp.WriteCapacityUnits = max(1, derefInt(p.WriteCapacityUnits))
		}
		return tp
	}
	c.ProvisionedThroughput = provisioned(t.ProvisionedThroughput)
	c.DeletionProtectionEnabled = t.DeletionProtectionEnabled != nil && *t.DeletionProtectionEnabled
	c.KeySchema = keys(t.KeySchema)
	for _, a := range t.AttributeDefinitions {
		c.AttributeDefinitions = append(c.AttributeDefinitions, attrDef{deref(a.AttributeName), string(a.AttributeType)})
	}
	for _, g := range t.GlobalSecondaryIndexes {
		c.GlobalSecondaryIndexes = append(c.GlobalSecondaryIndexes, indexDef{
			IndexName: deref(g.IndexName), KeySchema: keys(g.KeySchema), Projection: proj(g.Projection),
			ProvisionedThroughput: provisioned(g.ProvisionedThroughput),
		})
	}
	for _, l := range t.LocalSecondaryIndexes {
		c.LocalSecondaryIndexes = append(c.LocalSecondaryIndexes, indexDef{
			IndexName: deref(l.IndexName), KeySchema: keys(l.KeySchema), Projection: proj(l.Projection),
		})
	}
	return c
}

func keys(ks []types.KeySchemaElement) []keyElem {
	out := make([]keyElem, 0, len(ks))
	for _, k := range ks {
		out = append(out, keyElem{deref(k.AttributeName), string(k.KeyType)})
	}
	return out
}

func proj(p *types.Projection) projection {
	if p == nil {
		return projection{ProjectionType: "ALL"}
	}
	return projection{ProjectionType: string(p.ProjectionType), NonKeyAttributes: p.NonKeyAttributes}
}

// normalized orders what DynamoDB does not order, and drops throughput, so
// two descriptions of the same table compare equal.
func (t tableDef) normalized() tableDef {
	out := t
	out.AttributeDefinitions = append([]attrDef(nil), t.AttributeDefinitions...)
	sort.Slice(out.AttributeDefinitions, func(i, j int) bool {
		return out.AttributeDefinitions[i].AttributeName < out.AttributeDefinitions[j].AttributeName
	})
	norm := func(ix []indexDef) []indexDef {
		o := make([]indexDef, len(ix))
		for i, d := range ix {
			d.ProvisionedThroughput = nil
			d.Projection.NonKeyAttributes = append([]string(nil), d.Projection.NonKeyAttributes...)
			sort.Strings(d.Projection.NonKeyAttributes)
			if len(d.Projection.NonKeyAttributes) == 0 {
				d.Projection.NonKeyAttributes = nil
			}
			o[i] = d
		}
		sort.Slice(o, func(i, j int) bool { return o[i].IndexName < o[j].IndexName })
		if len(o) == 0 {
			return nil
		}
		return o
	}
	out.GlobalSecondaryIndexes = norm(t.GlobalSecondaryIndexes)
	out.LocalSecondaryIndexes = norm(t.LocalSecondaryIndexes)
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}
