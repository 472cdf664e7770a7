// Package replication holds the process-level proofs of issue 5: the
// `dualread streamproc` and `dualread backfill` binaries run as child
// processes against DynamoDB Local, kinesalite and gcloud's Bigtable
// emulator, are killed with SIGKILL at random points and restarted, and the
// target is then compared with DynamoDB Local item for item; the stream
// processors' lag points are read back from InfluxDB. The sizes
// (50,000 writes, 200,000 items) are the defaults. Everything is in the
// _test.go files; see README.md for flags and timings.
package replication
