package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"go.yaml.in/yaml/v3"
)

// Credential is one access key the adapter accepts under AuthVerify.
type Credential struct {
	AccessKeyID string
	Secret      string
	// Service names the calling service in logs and the audit.
	Service string
}

// Credentials is an immutable set of access keys.
type Credentials struct {
	byKey map[string]Credential
}

// NewCredentials builds a set; a key may appear only once and needs a secret.
func NewCredentials(list ...Credential) (*Credentials, error) {
	c := &Credentials{byKey: make(map[string]Credential, len(list))}
	for _, cr := range list {
		if cr.AccessKeyID == "" {
			return nil, errors.New("credentials: empty access key id")
		}
		if cr.Secret == "" {
			return nil, fmt.Errorf("credentials: access key %q has no secret", cr.AccessKeyID)
		}
		if _, dup := c.byKey[cr.AccessKeyID]; dup {
			return nil, fmt.Errorf("credentials: access key %q listed twice", cr.AccessKeyID)
		}
		c.byKey[cr.AccessKeyID] = cr
	}
	return c, nil
}

// Lookup returns the credential of an access key id.
func (c *Credentials) Lookup(accessKeyID string) (Credential, bool) {
	if c == nil {
		return Credential{}, false
	}
	cr, ok := c.byKey[accessKeyID]
	return cr, ok
}

// Len is the number of keys.
func (c *Credentials) Len() int {
	if c == nil {
		return 0
	}
	return len(c.byKey)
}

// KeyIDs lists the access key ids, sorted (for logs; never log secrets).
func (c *Credentials) KeyIDs() []string {
	ids := make([]string, 0, c.Len())
	for id := range c.byKey {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// credentialEntry is one value of the credentials file's top-level map.
type credentialEntry struct {
	Secret  string `yaml:"secret"`
	Service string `yaml:"service"`
}

// ParseCredentials reads a credentials file: a YAML (or JSON, which YAML
// reads too) map from access key id to its secret and service name:
//
//	AKIAORDERS: {secret: "...", service: orders-api}
//	{"AKIABILLING": {"secret": "...", "service": "billing"}}
//
// Unknown fields are errors, so a typo cannot silently drop a key's service.
func ParseCredentials(data []byte) (*Credentials, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var m map[string]credentialEntry
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("credentials: file is empty")
		}
		return nil, fmt.Errorf("credentials: %w", err)
	}
	list := make([]Credential, 0, len(m))
	for id, e := range m {
		svc := e.Service
		if svc == "" {
			svc = id
		}
		list = append(list, Credential{AccessKeyID: id, Secret: e.Secret, Service: svc})
	}
	if len(list) == 0 {
		return nil, errors.New("credentials: no access keys in file")
	}
	return NewCredentials(list...)
}

// LoadCredentials reads and parses a credentials file.
func LoadCredentials(path string) (*Credentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseCredentials(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
