package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    map[string]Credential // by key id
		wantErr string
	}{
		{name: "yaml", file: "AKIA1: {secret: s1, service: orders}\nAKIA2:\n  secret: s2\n",
			want: map[string]Credential{
				"AKIA1": {AccessKeyID: "AKIA1", Secret: "s1", Service: "orders"},
				"AKIA2": {AccessKeyID: "AKIA2", Secret: "s2", Service: "AKIA2"},
			}},
		{name: "json", file: `{"AKIA3": {"secret": "s3", "service": "billing"}}`,
			want: map[string]Credential{"AKIA3": {AccessKeyID: "AKIA3", Secret: "s3", Service: "billing"}}},
		{name: "missing secret", file: "AKIA1: {service: x}", wantErr: "has no secret"},
		{name: "typo in field", file: "AKIA1: {secret: s, servce: x}", wantErr: "servce"},
		{name: "duplicate key", file: "AKIA1: {secret: a}\nAKIA1: {secret: b}\n", wantErr: "already defined"},
		{name: "empty", file: "", wantErr: "empty"},
		{name: "empty map", file: "{}", wantErr: "no access keys"},
		{name: "not a map", file: "- a\n- b\n", wantErr: "cannot unmarshal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCredentials([]byte(tc.file))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Len() != len(tc.want) {
				t.Fatalf("%d keys, want %d", c.Len(), len(tc.want))
			}
			for id, want := range tc.want {
				if got, ok := c.Lookup(id); !ok || got != want {
					t.Errorf("Lookup(%s) = %+v %v, want %+v", id, got, ok, want)
				}
			}
		})
	}
}

func TestLoadCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds.yaml")
	if err := os.WriteFile(path, []byte("AKIA9: {secret: x, service: svc}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	if ids := c.KeyIDs(); len(ids) != 1 || ids[0] != "AKIA9" {
		t.Fatalf("KeyIDs = %v", ids)
	}
	if _, err := LoadCredentials(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("missing file loaded")
	}
}

func TestParseAuthMode(t *testing.T) {
	for in, want := range map[string]AuthMode{"none": AuthNone, "IDENTIFY": AuthIdentify, " verify ": AuthVerify} {
		if got, err := ParseAuthMode(in); err != nil || got != want {
			t.Errorf("ParseAuthMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseAuthMode("sigv2"); err == nil {
		t.Error("sigv2 accepted")
	}
}
