"""boto3 against the endpoint under test (DUALREAD_ENDPOINT), driven by clients_test.go."""
import os
import uuid
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from botocore.config import Config
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def client():
    return boto3.client(
        "dynamodb",
        endpoint_url=os.environ["DUALREAD_ENDPOINT"],
        region_name="us-east-1",
        aws_access_key_id="AKIDDUALREADTEST",
        aws_secret_access_key="dualread-test-secret",
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )


@pytest.fixture(scope="module")
def table(client):
    name = "e2e_boto3_" + uuid.uuid4().hex[:8]
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    resource = boto3.resource("dynamodb", endpoint_url=os.environ["DUALREAD_ENDPOINT"], region_name="us-east-1",
                              aws_access_key_id="AKIDDUALREADTEST", aws_secret_access_key="dualread-test-secret")
    yield resource.Table(name)
    client.delete_table(TableName=name)


def test_put_get_update_delete(table):
    table.put_item(Item={"pk": "a", "sk": 1, "n": Decimal("1.50"), "tags": {"x", "y"}, "m": {"l": [1, "two"]}})
    item = table.get_item(Key={"pk": "a", "sk": 1}, ConsistentRead=True)["Item"]
    assert item == {"pk": "a", "sk": 1, "n": Decimal("1.5"), "tags": {"x", "y"}, "m": {"l": [1, "two"]}}
    out = table.update_item(Key={"pk": "a", "sk": 1}, UpdateExpression="SET n = n + :d ADD tags :t",
                            ExpressionAttributeValues={":d": 1, ":t": {"z"}}, ReturnValues="UPDATED_NEW")
    assert out["Attributes"] == {"n": Decimal("2.5"), "tags": {"x", "y", "z"}}
    with pytest.raises(ClientError) as e:
        table.put_item(Item={"pk": "a", "sk": 1}, ConditionExpression="attribute_not_exists(pk)")
    assert e.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    old = table.delete_item(Key={"pk": "a", "sk": 1}, ReturnValues="ALL_OLD")["Attributes"]
    assert old["n"] == Decimal("2.5")
    assert "Item" not in table.get_item(Key={"pk": "a", "sk": 1})


def test_query_and_batch(table):
    with table.batch_writer() as bw:
        for i in range(30):
            bw.put_item(Item={"pk": "q", "sk": i, "v": "x" * i})
    out = table.query(KeyConditionExpression=Key("pk").eq("q") & Key("sk").between(5, 9), ScanIndexForward=False)
    assert [int(it["sk"]) for it in out["Items"]] == [9, 8, 7, 6, 5]
    page = table.query(KeyConditionExpression=Key("pk").eq("q"), Limit=7)
    assert page["Count"] == 7 and page["LastEvaluatedKey"] == {"pk": "q", "sk": 6}
    got = table.meta.client.batch_get_item(RequestItems={table.name: {"Keys": [{"pk": "q", "sk": i} for i in (1, 2, 99)]}})
    assert sorted(int(it["sk"]) for it in got["Responses"][table.name]) == [1, 2]


def test_transactions(table, client):
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": table.name, "Item": {"pk": {"S": "t"}, "sk": {"N": "1"}, "bal": {"N": "10"}}}},
        {"Put": {"TableName": table.name, "Item": {"pk": {"S": "t"}, "sk": {"N": "2"}, "bal": {"N": "0"}}}},
    ])
    with pytest.raises(ClientError) as e:
        client.transact_write_items(TransactItems=[
            {"Update": {"TableName": table.name, "Key": {"pk": {"S": "t"}, "sk": {"N": "1"}},
                        "UpdateExpression": "SET bal = bal - :a", "ConditionExpression": "bal >= :a",
                        "ExpressionAttributeValues": {":a": {"N": "50"}}}},
            {"Update": {"TableName": table.name, "Key": {"pk": {"S": "t"}, "sk": {"N": "2"}},
                        "UpdateExpression": "SET bal = bal + :a", "ExpressionAttributeValues": {":a": {"N": "50"}}}},
        ])
    err = e.value.response
    assert err["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in err["CancellationReasons"]] == ["ConditionalCheckFailed", "None"]
    got = client.transact_get_items(TransactItems=[
        {"Get": {"TableName": table.name, "Key": {"pk": {"S": "t"}, "sk": {"N": n}}}} for n in ("1", "2")])
    assert [r["Item"]["bal"]["N"] for r in got["Responses"]] == ["10", "0"]
