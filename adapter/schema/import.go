// Package schema copies table definitions from a DynamoDB endpoint to the
// adapter: keys, billing, GSIs, LSIs and the TTL attribute. It is what
// `dualread schema import` runs, the first step of a migration.
//
// Import is idempotent and never destroys anything: a table that already
// exists on the adapter with the same definition is left alone; one that
// differs is reported, not changed.
package schema

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/adapter/ddberr"
)

// Target runs DynamoDB operations on the adapter (dynamo.Executor.Do).
type Target interface {
	Do(ctx context.Context, op string, body []byte) ([]byte, error)
}

// Action is what Import does, or would do, with one table.
type Action string

const (
	Create    Action = "create"    // missing on the adapter: created
	Unchanged Action = "unchanged" // present with the same definition
	Differs   Action = "differs"   // present with another definition: left alone
)

// Step is Import's plan for one table.
type Step struct {
	Table   string
	Backend string
	Action  Action
	// CreateTable is the request that creates the table (Action Create).
	CreateTable json.RawMessage
	// TTLAttribute is the TTL attribute to enable, if the source has one.
	TTLAttribute string
	// Difference says how an existing table differs (Action Differs).
	Difference string
}

// Options select what to import.
type Options struct {
	// Tables limits the import to these names; empty means every table.
	Tables []string
	// DryRun plans without creating anything.
	DryRun bool
	// BackendFor names the backend a table goes to (for the plan).
	BackendFor func(table string) string
}

// Import reads the source's tables and creates the missing ones on dst.
func Import(ctx context.Context, src *dynamodb.Client, dst Target, opts Options) ([]Step, error) {
	names := opts.Tables
	if len(names) == 0 {
		p := dynamodb.NewListTablesPaginator(src, &dynamodb.ListTablesInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list source tables: %w", err)
			}
			names = append(names, page.TableNames...)
		}
	}
	sort.Strings(names)
	var steps []Step
	for _, name := range names {
		st, err := plan(ctx, src, dst, name, opts)
		if err != nil {
			return steps, fmt.Errorf("table %s: %w", name, err)
		}
		if !opts.DryRun {
			if err := apply(ctx, dst, st); err != nil {
				return steps, fmt.Errorf("table %s: %w", name, err)
			}
		}
		steps = append(steps, st)
	}
	return steps, nil
}

func plan(ctx context.Context, src *dynamodb.Client, dst Target, name string, opts Options) (Step, error) {
	d, err := src.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return Step{}, fmt.Errorf("describe on source: %w", err)
	}
	st := Step{Table: name, Action: Create}
	if opts.BackendFor != nil {
		st.Backend = opts.BackendFor(name)
	}
	ttl, err := src.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return Step{}, fmt.Errorf("describe TTL on source: %w", err)
	}
	if t := ttl.TimeToLiveDescription; t != nil && t.AttributeName != nil &&
		(t.TimeToLiveStatus == types.TimeToLiveStatusEnabled || t.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		st.TTLAttribute = *t.AttributeName
	}
	want := createRequest(d.Table)
	if st.CreateTable, err = json.Marshal(want); err != nil {
		return Step{}, err
	}
	raw, err := dst.Do(ctx, "DescribeTable", mustJSON(map[string]string{"TableName": name}))
	var de *ddberr.Error
	switch {
	case errors.As(err, &de) && de.Name() == "ResourceNotFoundException":
		return st, nil
	case err != nil:
		return Step{}, fmt.Errorf("describe on adapter: %w", err)
	}
	var have struct{ Table tableDef }
	if err := json.Unmarshal(raw, &have); err != nil {
		return Step{}, err
	}
	st.Action, st.CreateTable = Unchanged, nil
	if diff := compare(want.definition(), have.Table); diff != "" {
		st.Action, st.Difference = Differs, diff
	}
	return st, nil
}

func apply(ctx context.Context, dst Target, st Step) error {
	if st.Action == Create {
		if _, err := dst.Do(ctx, "CreateTable", st.CreateTable); err != nil {
			return fmt.Errorf("create on adapter: %w", err)
		}
	}
	if st.TTLAttribute == "" || st.Action == Differs {
		return nil
	}
	_, err := dst.Do(ctx, "UpdateTimeToLive", mustJSON(map[string]any{"TableName": st.Table,
		"TimeToLiveSpecification": map[string]any{"AttributeName": st.TTLAttribute, "Enabled": true}}))
	var de *ddberr.Error
	if errors.As(err, &de) && de.Message == "TimeToLive is already enabled" {
		return nil // idempotent
	}
	return err
}

// Report writes the plan as text, one table a paragraph.
func Report(w io.Writer, steps []Step, dryRun bool) {
	verb := map[Action]string{Create: "created", Unchanged: "already present, unchanged", Differs: "already present with ANOTHER definition, left alone"}
	if dryRun {
		verb[Create] = "would be created"
	}
	for _, s := range steps {
		fmt.Fprintf(w, "%s (%s backend): %s\n", s.Table, s.Backend, verb[s.Action])
		if s.Action == Create {
			fmt.Fprintf(w, "  CreateTable %s\n", s.CreateTable)
		}
		if s.TTLAttribute != "" && s.Action != Differs {
			fmt.Fprintf(w, "  UpdateTimeToLive {\"AttributeName\":%q,\"Enabled\":true}\n", s.TTLAttribute)
		}
		if s.Difference != "" {
			fmt.Fprintf(w, "  differs: %s\n", s.Difference)
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// compare names the first difference between two definitions, or "".
func compare(want, have tableDef) string {
	have = have.normalized()
	want = want.normalized()
	switch {
	case !reflect.DeepEqual(want.KeySchema, have.KeySchema):
		return fmt.Sprintf("key schema %v here, %v on the source", have.KeySchema, want.KeySchema)
	case !reflect.DeepEqual(want.AttributeDefinitions, have.AttributeDefinitions):
		return fmt.Sprintf("attribute definitions %v here, %v on the source", have.AttributeDefinitions, want.AttributeDefinitions)
	case !reflect.DeepEqual(want.GlobalSecondaryIndexes, have.GlobalSecondaryIndexes):
		return fmt.Sprintf("global secondary indexes %v here, %v on the source", have.GlobalSecondaryIndexes, want.GlobalSecondaryIndexes)
	case !reflect.DeepEqual(want.LocalSecondaryIndexes, have.LocalSecondaryIndexes):
		return fmt.Sprintf("local secondary indexes %v here, %v on the source", have.LocalSecondaryIndexes, want.LocalSecondaryIndexes)
	}
	return ""
}
