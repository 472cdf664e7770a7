// Package verify holds the process-level proof of `dualread verify`
// (issue 6): 100,000 items a side, DynamoDB Local against the adapter,
// known differences found exactly, and a SIGKILLed run resumed to the same
// report. See TestVerify100k and verify/README.md.
package verify
