package server

import "strings"

// targetPrefix is the only API version DynamoDB still serves.
const targetPrefix = "DynamoDB_20120810."

// operations is every operation of DynamoDB's 2012-08-10 API (as listed by
// aws-sdk-go-v2/service/dynamodb v1.73). The handler passes any of them to the
// executor, which answers those it does not implement itself; a name outside
// this list never reaches it, as on AWS.
var operations = func() map[string]bool {
	m := map[string]bool{}
	for _, op := range strings.Fields(`
		BatchExecuteStatement BatchGetItem BatchWriteItem CancelBulkOperation CreateBackup
		CreateGlobalTable CreateTable DeleteBackup DeleteItem DeleteResourcePolicy DeleteTable
		DescribeBackup DescribeBulkOperation DescribeContinuousBackups DescribeContributorInsights
		DescribeEndpoints DescribeExport DescribeGlobalTable DescribeGlobalTableSettings
		DescribeImport DescribeKinesisStreamingDestination DescribeLimits DescribeTable
		DescribeTableReplicaAutoScaling DescribeTimeToLive DisableKinesisStreamingDestination
		EnableKinesisStreamingDestination ExecuteStatement ExecuteTransaction
		ExportTableToPointInTime GetItem GetResourcePolicy ImportTable ListBackups
		ListBulkOperations ListContributorInsights ListExports ListGlobalTables ListImports
		ListTables ListTagsOfResource PutItem PutResourcePolicy Query RestoreTableFromBackup
		RestoreTableToPointInTime Scan SearchVectors StartBulkPutItems TagResource
		TransactGetItems TransactWriteItems UntagResource UpdateContinuousBackups
		UpdateContributorInsights UpdateGlobalTable UpdateGlobalTableSettings UpdateItem
		UpdateKinesisStreamingDestination UpdateTable UpdateTableReplicaAutoScaling
		UpdateTimeToLive`) {
		m[op] = true
	}
	return m
}()

// parseTarget returns the operation named by an X-Amz-Target header value.
// Matching is exact (case-sensitive), as on AWS.
func parseTarget(v string) (string, bool) {
	op, ok := strings.CutPrefix(v, targetPrefix)
	if !ok || !operations[op] {
		return "", false
	}
	return op, true
}
