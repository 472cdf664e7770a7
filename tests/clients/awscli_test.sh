#!/usr/bin/env bash
# The AWS CLI against the endpoint under test ($DUALREAD_ENDPOINT), driven by
# clients_test.go. $AWS selects the CLI binary. Exits non-zero on the first
# wrong answer, printing what it got.
set -euo pipefail
ep=${DUALREAD_ENDPOINT:?}
aws=${AWS:-aws}
t="e2e_cli_$RANDOM$RANDOM"
ddb() { "$aws" dynamodb --endpoint-url "$ep" --output text "$@"; }
want() { # want WHAT EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then echo "FAIL $1: want [$2] got [$3]" >&2; exit 1; fi
  echo "ok $1"
}
cleanup() { ddb delete-table --table-name "$t" >/dev/null 2>&1 || true; }
trap cleanup EXIT

ddb create-table --table-name "$t" --billing-mode PAY_PER_REQUEST \
  --attribute-definitions AttributeName=pk,AttributeType=S AttributeName=sk,AttributeType=N \
  --key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE >/dev/null
# Poll instead of `aws dynamodb wait table-exists`, whose first check comes
# only after its 20 s delay.
for i in $(seq 1 60); do
  st=$(ddb describe-table --table-name "$t" --query Table.TableStatus)
  [ "$st" = ACTIVE ] && break
  sleep 1
done
want describe ACTIVE "$st"

ddb put-item --table-name "$t" --item '{"pk":{"S":"a"},"sk":{"N":"1"},"v":{"N":"1.50"}}'
want get 1.5 "$(ddb get-item --table-name "$t" --key '{"pk":{"S":"a"},"sk":{"N":"1"}}' --query Item.v.N)"

want update 2.5 "$(ddb update-item --table-name "$t" --key '{"pk":{"S":"a"},"sk":{"N":"1"}}' \
  --update-expression 'SET v = v + :d' --expression-attribute-values '{":d":{"N":"1"}}' \
  --return-values UPDATED_NEW --query Attributes.v.N)"

if out=$(ddb put-item --table-name "$t" --item '{"pk":{"S":"a"},"sk":{"N":"1"}}' \
  --condition-expression 'attribute_not_exists(pk)' 2>&1); then
  echo "FAIL conditional put succeeded" >&2; exit 1
fi
case "$out" in *ConditionalCheckFailedException*) echo "ok conditional";; *) echo "FAIL conditional: $out" >&2; exit 1;; esac

ddb batch-write-item --request-items "{\"$t\":[
  {\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"2\"}}}},
  {\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"3\"}}}}]}" >/dev/null
want query "3" "$(ddb query --table-name "$t" --key-condition-expression 'pk = :p' \
  --expression-attribute-values '{":p":{"S":"a"}}' --select COUNT --query Count)"
want query-desc "3	2	1" "$(ddb query --table-name "$t" --key-condition-expression 'pk = :p' \
  --expression-attribute-values '{":p":{"S":"a"}}' --no-scan-index-forward --query 'Items[].sk.N')"
want batch-get 2 "$(ddb batch-get-item --request-items "{\"$t\":{\"Keys\":[
  {\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"2\"}},{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"3\"}}]}}" --query "length(Responses.$t)")"

ddb transact-write-items --transact-items "[
  {\"Delete\":{\"TableName\":\"$t\",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"2\"}}}},
  {\"Update\":{\"TableName\":\"$t\",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"3\"}},
    \"UpdateExpression\":\"SET w = :w\",\"ExpressionAttributeValues\":{\":w\":{\"S\":\"x\"}}}}]" >/dev/null
want transact-get "x" "$(ddb transact-get-items --transact-items "[
  {\"Get\":{\"TableName\":\"$t\",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"3\"}}}}]" --query 'Responses[0].Item.w.S')"

ddb delete-item --table-name "$t" --key '{"pk":{"S":"a"},"sk":{"N":"1"}}'
want scan-after-delete 1 "$(ddb scan --table-name "$t" --select COUNT --query Count)"
echo "all awscli checks passed"
