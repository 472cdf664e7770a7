// Package testenv gives tests real stand-ins over real connections: DynamoDB
// Local processes (the oracle), the endpoint under test (the adapter when one
// is available), SDK clients and a raw signed-JSON client.
package testenv

import (
	"errors"
	"os"
	"path/filepath"
)

// RepoRoot walks up from dir to the folder holding go.mod. Tests run in their
// package folder, so this finds the repository whatever package calls it.
func RepoRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("testenv: no go.mod above " + dir)
		}
		d = parent
	}
}
