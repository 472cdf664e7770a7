package k8s

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestYAMLFilesParse: every YAML file under deploy/k8s and deploy/grafana
// parses (all documents), and every file in deploy/k8s is used by a
// kustomization: a manifest no kustomization lists would silently never
// be deployed.
func TestYAMLFilesParse(t *testing.T) {
	used := map[string]bool{}
	var files []string
	for _, root := range []string{".", "../grafana"} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || (!strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".yml")) {
				return err
			}
			files = append(files, p)
			raw, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			dec := yaml.NewDecoder(bytes.NewReader(raw))
			for {
				var doc any
				if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Errorf("%s: %v", p, err)
					break
				}
			}
			if filepath.Base(p) == "kustomization.yaml" {
				used[filepath.Clean(p)] = true
				var k struct {
					Resources          []string `yaml:"resources"`
					ConfigMapGenerator []struct {
						Files []string `yaml:"files"`
					} `yaml:"configMapGenerator"`
				}
				if err := yaml.Unmarshal(raw, &k); err != nil {
					t.Errorf("%s: %v", p, err)
				}
				refs := k.Resources
				for _, g := range k.ConfigMapGenerator {
					refs = append(refs, g.Files...)
				}
				for _, r := range refs {
					used[filepath.Join(filepath.Dir(p), r)] = true
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		if !strings.HasPrefix(f, "..") && !used[filepath.Clean(f)] {
			t.Errorf("%s: no kustomization uses it", f)
		}
	}
	if len(files) < 10 {
		t.Fatalf("only %d YAML files found: %v", len(files), files)
	}
}

// TestGrafanaKustomization: deploy/grafana renders into the ConfigMaps
// Grafana's sidecar loads, labelled as it expects, each dashboard intact.
func TestGrafanaKustomization(t *testing.T) {
	r := render(t, "../grafana")
	labels := map[string]string{"dualread-grafana-dashboards": "grafana_dashboard", "dualread-grafana-datasource": "grafana_datasource"}
	for name, label := range labels {
		cm := r.configMaps[name]
		if cm == nil {
			t.Fatalf("no ConfigMap %s (have %v)", name, sortedKeys(r.configMaps))
		}
		if cm.Labels[label] != "1" {
			t.Errorf("ConfigMap %s: label %s=%q, the sidecar wants \"1\"", name, label, cm.Labels[label])
		}
	}
	files, _ := filepath.Glob("../grafana/dashboards/*.json")
	got := sortedKeys(r.configMaps["dualread-grafana-dashboards"].Data)
	var want []string
	for _, f := range files {
		want = append(want, filepath.Base(f))
		raw, _ := os.ReadFile(f)
		if r.configMaps["dualread-grafana-dashboards"].Data[filepath.Base(f)] != string(raw) || !json.Valid(raw) {
			t.Errorf("%s: ConfigMap content differs from the file, or is not JSON", f)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("dashboards ConfigMap holds %v, the folder %v", got, want)
	}
}
