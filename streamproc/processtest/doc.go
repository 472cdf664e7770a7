// Package processtest holds the process-level tests of streamproc's change
// sources: `bin/dualread streamproc --source dynamodbstreams|lambda` and
// `dualread kds-bridge` run as child processes against DynamoDB Local,
// kinesalite and the Bigtable emulator, killed and restarted as an
// operator (or a crash) would. It has no code of its own.
package processtest
