// Package testenv gives tests real stand-ins over real connections: DynamoDB
// Local processes (the oracle), the endpoint under test (the adapter when one
// is available), SDK clients and a raw signed-JSON client. The processes are
// started by internal/standin, the one launcher outside tests.
package testenv

import "github.com/dualread/dualread/internal/standin"

// RepoRoot walks up from dir to the folder holding go.mod. Tests run in their
// package folder, so this finds the repository whatever package calls it.
func RepoRoot(dir string) (string, error) { return standin.RepoRoot(dir) }
