package dynamo

import (
	"context"
	"fmt"
	"sort"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/store"
)

type createTableRequest struct {
	TableName              *string                 `json:"TableName"`
	KeySchema              []KeySchemaElement      `json:"KeySchema"`
	AttributeDefinitions   []AttributeDefinition   `json:"AttributeDefinitions"`
	BillingMode            string                  `json:"BillingMode"`
	ProvisionedThroughput  *ProvisionedThroughput  `json:"ProvisionedThroughput"`
	GlobalSecondaryIndexes []secondaryIndexRequest `json:"GlobalSecondaryIndexes"`
	LocalSecondaryIndexes  []secondaryIndexRequest `json:"LocalSecondaryIndexes"`
	StreamSpecification    *StreamSpecification    `json:"StreamSpecification"`
	DeletionProtection     *bool                   `json:"DeletionProtectionEnabled"`
}

type secondaryIndexRequest struct {
	IndexName             string                 `json:"IndexName"`
	KeySchema             []KeySchemaElement     `json:"KeySchema"`
	Projection            *Projection            `json:"Projection"`
	ProvisionedThroughput *ProvisionedThroughput `json:"ProvisionedThroughput"`
}

const invalidNameMsg = "Invalid table/index name.  Table/index names must be between 3 and 255 characters long, and may contain only the characters a-z, A-Z, 0-9, '_', '-', and '.'"

func validName(s string) bool {
	if len(s) < 3 || len(s) > 255 {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

// tableName validates a request's TableName parameter.
func tableName(p *string) (string, error) {
	if p == nil {
		return "", ddberr.Validation("Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	if !validName(*p) {
		return "", ddberr.Validation(invalidNameMsg)
	}
	return *p, nil
}

func (e *Executor) arn(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:000000000000:table/%s", e.opts.Region, name)
}

// checkKeySchema validates a table's or index's key schema against the definitions.
func checkKeySchema(ks []KeySchemaElement, defs map[string]string) error {
	if len(ks) == 0 {
		return ddberr.Validation("No defined key schema.  A key schema containing at least a hash key must be defined for all tables")
	}
	if len(ks) > 2 {
		return ddberr.Validation("1 validation error detected: Value '%d' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2", len(ks))
	}
	if ks[0].KeyType != "HASH" {
		return ddberr.Validation("No Hash Key specified in schema.  All Dynamo DB tables must have exactly one hash key")
	}
	if len(ks) == 2 {
		if ks[1].KeyType != "RANGE" {
			return ddberr.Validation("Too many hash keys specified.  All Dynamo DB tables must have exactly one hash key")
		}
		if ks[0].AttributeName == ks[1].AttributeName {
			return ddberr.Validation("Two keys can not have the same name")
		}
	}
	for _, k := range ks {
		if _, ok := defs[k.AttributeName]; !ok {
			return ddberr.Validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", k.AttributeName, sortedKeys(defs))
		}
	}
	return nil
}

func sortedKeys(m map[string]string) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	out := ""
	for i, k := range ks {
		if i > 0 {
			out += ", "
		}
		out += k
	}
	return out
}

func checkProjection(p *Projection) (Projection, error) {
	if p == nil {
		return Projection{}, ddberr.Validation("1 validation error detected: Value null at 'projection' failed to satisfy constraint: Member must not be null")
	}
	switch p.ProjectionType {
	case "ALL", "KEYS_ONLY":
		if len(p.NonKeyAttributes) > 0 {
			return Projection{}, ddberr.Validation("One or more parameter values were invalid: ProjectionType is %s, but NonKeyAttributes is specified", p.ProjectionType)
		}
	case "INCLUDE":
		if len(p.NonKeyAttributes) == 0 {
			return Projection{}, ddberr.Validation("One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
		}
	case "":
		return Projection{ProjectionType: "ALL"}, nil
	default:
		return Projection{}, ddberr.Validation("1 validation error detected: Value '%s' at 'projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]", p.ProjectionType)
	}
	return *p, nil
}

func (e *Executor) createTable(ctx context.Context, req *createTableRequest) (any, error) {
	name, err := tableName(req.TableName)
	if err != nil {
		return nil, err
	}
	if len(req.AttributeDefinitions) == 0 {
		if len(req.KeySchema) == 0 {
			return nil, ddberr.Validation("No defined key schema.  A key schema containing at least a hash key must be defined for all tables")
		}
		return nil, ddberr.Validation("No Attribute Schema Defined")
	}
	defs := map[string]string{}
	for _, d := range req.AttributeDefinitions {
		switch d.AttributeType {
		case "S", "N", "B":
		default:
			return nil, ddberr.Validation("Member must satisfy enum value set: [B, N, S]")
		}
		if _, dup := defs[d.AttributeName]; dup {
			return nil, ddberr.Validation("Cannot have two attributes with the same name")
		}
		defs[d.AttributeName] = d.AttributeType
	}
	if err := checkKeySchema(req.KeySchema, defs); err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, k := range req.KeySchema {
		used[k.AttributeName] = true
	}
	now := float64(e.opts.Now().UnixMilli()) / 1000
	billing := req.BillingMode
	if billing == "" {
		billing = "PROVISIONED"
	}
	desc := TableDescription{
		AttributeDefinitions: req.AttributeDefinitions,
		TableName:            name,
		KeySchema:            req.KeySchema,
		TableStatus:          "ACTIVE",
		CreationDateTime:     epochTime(now),
		TableArn:             e.arn(name),
		StreamSpecification:  req.StreamSpecification,
	}
	if req.DeletionProtection != nil {
		desc.DeletionProtectionEnabled = *req.DeletionProtection
	}
	throughput := func(p *ProvisionedThroughput) (*ProvisionedThroughputDescription, error) {
		switch billing {
		case "PAY_PER_REQUEST":
			if p != nil {
				return nil, ddberr.Validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
			}
			return &ProvisionedThroughputDescription{}, nil
		case "PROVISIONED":
			if p == nil {
				return nil, ddberr.Validation("No provisioned throughput specified for the table")
			}
			if p.ReadCapacityUnits < 1 || p.WriteCapacityUnits < 1 {
				return nil, ddberr.Validation("One or more parameter values were invalid: Provisioned throughput values must be greater than 0")
			}
			return &ProvisionedThroughputDescription{ReadCapacityUnits: p.ReadCapacityUnits, WriteCapacityUnits: p.WriteCapacityUnits}, nil
		}
		return nil, ddberr.Validation("1 validation error detected: Value '%s' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", billing)
	}
	if desc.ProvisionedThroughput, err = throughput(req.ProvisionedThroughput); err != nil {
		return nil, err
	}
	if billing == "PAY_PER_REQUEST" {
		desc.BillingModeSummary = &BillingModeSummary{BillingMode: billing, LastUpdateToPayPerRequestDateTime: epochTime(now)}
	}
	place := e.opts.Placement(name)
	rec := tableRecord{Desc: desc, Space: newSpaceName(place + "t"), IndexSpaces: map[string]string{}}
	seen := map[string]bool{}
	if len(req.LocalSecondaryIndexes) > 0 && len(req.KeySchema) < 2 {
		return nil, ddberr.Validation("Local Secondary indices are not allowed on hash tables, only hash and range tables")
	}
	if len(req.LocalSecondaryIndexes) > 5 {
		return nil, ddberr.Validation("One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5")
	}
	if len(req.GlobalSecondaryIndexes) > 20 {
		return nil, ddberr.Validation("One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20")
	}
	for _, li := range req.LocalSecondaryIndexes {
		d, err := e.indexDesc(name, li, defs, seen, false, nil)
		if err != nil {
			return nil, err
		}
		if li.KeySchema[0].AttributeName != req.KeySchema[0].AttributeName {
			return nil, ddberr.Validation("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
		}
		rec.Desc.LocalSecondaryIndexes = append(rec.Desc.LocalSecondaryIndexes, d)
		rec.IndexSpaces[li.IndexName] = newSpaceName(place + "x")
		markUsed(used, li.KeySchema)
	}
	for _, gi := range req.GlobalSecondaryIndexes {
		d, err := e.indexDesc(name, gi, defs, seen, true, func(p *ProvisionedThroughput) (*ProvisionedThroughputDescription, error) { return throughput(p) })
		if err != nil {
			return nil, err
		}
		d.IndexStatus = "ACTIVE"
		rec.Desc.GlobalSecondaryIndexes = append(rec.Desc.GlobalSecondaryIndexes, d)
		rec.IndexSpaces[gi.IndexName] = newSpaceName(place + "x")
		markUsed(used, gi.KeySchema)
	}
	if len(used) != len(defs) {
		return nil, ddberr.Validation("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	for _, sp := range append([]string{rec.Space}, mapValues(rec.IndexSpaces)...) {
		if err := e.st.CreateSpace(ctx, sp); err != nil {
			return nil, err
		}
	}
	err = e.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		old, err := getRecord(ctx, tx, name)
		if err != nil {
			return err
		}
		if old != nil {
			return ddberr.ResourceInUse("Cannot create preexisting table")
		}
		return putRecord(tx, rec)
	})
	if err != nil {
		for _, sp := range append([]string{rec.Space}, mapValues(rec.IndexSpaces)...) {
			_ = e.st.DropSpace(ctx, sp)
		}
		return nil, err
	}
	e.catalog.forget(name)
	return map[string]any{"TableDescription": rec.Desc}, nil
}

func markUsed(used map[string]bool, ks []KeySchemaElement) {
	for _, k := range ks {
		used[k.AttributeName] = true
	}
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func (e *Executor) indexDesc(table string, r secondaryIndexRequest, defs map[string]string, seen map[string]bool, global bool,
	throughput func(*ProvisionedThroughput) (*ProvisionedThroughputDescription, error)) (IndexDescription, error) {
	if !validName(r.IndexName) {
		return IndexDescription{}, ddberr.Validation(invalidNameMsg)
	}
	if seen[r.IndexName] {
		return IndexDescription{}, ddberr.Validation("One or more parameter values were invalid: Duplicate index name: %s", r.IndexName)
	}
	seen[r.IndexName] = true
	if err := checkKeySchema(r.KeySchema, defs); err != nil {
		return IndexDescription{}, err
	}
	if !global && len(r.KeySchema) != 2 {
		return IndexDescription{}, ddberr.Validation("One or more parameter values were invalid: Index KeySchema does not have a range key for index: %s", r.IndexName)
	}
	proj, err := checkProjection(r.Projection)
	if err != nil {
		return IndexDescription{}, err
	}
	d := IndexDescription{
		IndexName:  r.IndexName,
		KeySchema:  r.KeySchema,
		Projection: proj,
		IndexArn:   e.arn(table) + "/index/" + r.IndexName,
	}
	if global {
		if d.ProvisionedThroughput, err = throughput(r.ProvisionedThroughput); err != nil {
			return IndexDescription{}, err
		}
	}
	return d, nil
}

type tableNameRequest struct {
	TableName *string `json:"TableName"`
}

func (e *Executor) describeTable(ctx context.Context, req *tableNameRequest) (any, error) {
	name, err := tableName(req.TableName)
	if err != nil {
		return nil, err
	}
	t, err := e.catalog.get(ctx, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Table": t.rec.Desc}, nil
}

type listTablesRequest struct {
	ExclusiveStartTableName *string `json:"ExclusiveStartTableName"`
	Limit                   *int    `json:"Limit"`
}

func (e *Executor) listTables(ctx context.Context, req *listTablesRequest) (any, error) {
	limit := 100
	if req.Limit != nil {
		if *req.Limit < 1 {
			return nil, ddberr.Validation("Limit must be greater than or equal to 1")
		}
		if *req.Limit > 100 {
			return nil, ddberr.Validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100", *req.Limit)
		}
		limit = *req.Limit
	}
	start := ""
	if req.ExclusiveStartTableName != nil {
		start = *req.ExclusiveStartTableName
	}
	names, more, err := e.catalog.list(ctx, start, limit)
	if err != nil {
		return nil, err
	}
	resp := map[string]any{"TableNames": nonNil(names)}
	if more {
		resp["LastEvaluatedTableName"] = names[len(names)-1]
	}
	return resp, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (e *Executor) deleteTable(ctx context.Context, req *tableNameRequest) (any, error) {
	name, err := tableName(req.TableName)
	if err != nil {
		return nil, err
	}
	var rec *tableRecord
	err = e.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		r, err := getRecord(ctx, tx, name)
		if err != nil {
			return err
		}
		if r == nil {
			return errNoTable()
		}
		if r.Desc.DeletionProtectionEnabled {
			return ddberr.Validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
		}
		rec = r
		tx.Delete(catalogSpace, []byte(name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.catalog.forget(name)
	// The catalog entry is gone, so no request can reach these spaces any more;
	// a crash here leaves only unreachable spaces behind.
	for _, sp := range append([]string{rec.Space}, mapValues(rec.IndexSpaces)...) {
		if err := e.st.DropSpace(ctx, sp); err != nil {
			e.log.Warn("drop space after DeleteTable", "space", sp, "err", err)
		}
	}
	desc := rec.Desc
	desc.TableStatus = "DELETING"
	return map[string]any{"TableDescription": desc}, nil
}

type describeEndpointsRequest struct{}

func (e *Executor) describeEndpoints(ctx context.Context, _ *describeEndpointsRequest) (any, error) {
	return map[string]any{"Endpoints": []map[string]any{{"Address": "dynamodb." + e.opts.Region + ".amazonaws.com", "CachePeriodInMinutes": 1440}}}, nil
}

// keyTypeOf returns the attribute type declared for name.
func keyTypeOf(defs []AttributeDefinition, name string) attr.Type {
	for _, d := range defs {
		if d.AttributeName == name {
			return attr.ParseType(d.AttributeType)
		}
	}
	return attr.TypeInvalid
}
