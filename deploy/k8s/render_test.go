package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// kustomizations are the folders `kubectl apply -k` takes; base renders on
// its own too, so it is checked like the overlays.
var kustomizations = []string{"base", "overlays/bigtable", "overlays/spanner"}

// rendered is one kustomization's output, every object decoded into its
// Kubernetes API type.
type rendered struct {
	dir          string
	deployments  []*appsv1.Deployment
	jobs         []*batchv1.Job
	cronJobs     []*batchv1.CronJob
	services     []*corev1.Service
	configMaps   map[string]*corev1.ConfigMap
	pvcs         map[string]bool
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	pdbs         []*policyv1.PodDisruptionBudget
	netpols      []*networkingv1.NetworkPolicy
	serviceAccts map[string]bool
}

// render runs kustomize in-process (sigs.k8s.io/kustomize/api, the library
// kubectl's -k uses) and decodes each object strictly: an unknown or
// misplaced field is an error, as `kubectl apply --validate=strict` would
// make it.
func render(t *testing.T, dir string) *rendered {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize %s: %v", dir, err)
	}
	r := &rendered{dir: dir, configMaps: map[string]*corev1.ConfigMap{}, pvcs: map[string]bool{}, serviceAccts: map[string]bool{}}
	for _, res := range m.Resources() {
		raw, err := res.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		kind, name := res.GetKind(), res.GetName()
		strict := func(v any) {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("%s: %s %s: %v", dir, kind, name, err)
			}
		}
		switch gvk := res.GetGvk(); gvk.ApiVersion() + "/" + kind {
		case "apps/v1/Deployment":
			var o appsv1.Deployment
			strict(&o)
			r.deployments = append(r.deployments, &o)
		case "batch/v1/Job":
			var o batchv1.Job
			strict(&o)
			r.jobs = append(r.jobs, &o)
		case "batch/v1/CronJob":
			var o batchv1.CronJob
			strict(&o)
			r.cronJobs = append(r.cronJobs, &o)
		case "v1/Service":
			var o corev1.Service
			strict(&o)
			r.services = append(r.services, &o)
		case "v1/ConfigMap":
			var o corev1.ConfigMap
			strict(&o)
			r.configMaps[name] = &o
		case "v1/PersistentVolumeClaim":
			var o corev1.PersistentVolumeClaim
			strict(&o)
			r.pvcs[name] = true
		case "v1/ServiceAccount":
			var o corev1.ServiceAccount
			strict(&o)
			r.serviceAccts[name] = true
		case "v1/Namespace":
			var o corev1.Namespace
			strict(&o)
		case "autoscaling/v2/HorizontalPodAutoscaler":
			var o autoscalingv2.HorizontalPodAutoscaler
			strict(&o)
			r.hpas = append(r.hpas, &o)
		case "policy/v1/PodDisruptionBudget":
			var o policyv1.PodDisruptionBudget
			strict(&o)
			r.pdbs = append(r.pdbs, &o)
		case "networking.k8s.io/v1/NetworkPolicy":
			var o networkingv1.NetworkPolicy
			strict(&o)
			r.netpols = append(r.netpols, &o)
		default:
			t.Fatalf("%s: %s %s (%s): no check knows this kind; add it to render", dir, kind, name, gvk.ApiVersion())
		}
	}
	return r
}

// workload is a pod template and what owns it.
type workload struct {
	kind, name string
	labels     map[string]string
	spec       *corev1.PodSpec
}

func (r *rendered) workloads() []workload {
	var out []workload
	for _, d := range r.deployments {
		out = append(out, workload{"Deployment", d.Name, d.Spec.Template.Labels, &d.Spec.Template.Spec})
	}
	for _, j := range r.jobs {
		out = append(out, workload{"Job", j.Name, j.Spec.Template.Labels, &j.Spec.Template.Spec})
	}
	for _, c := range r.cronJobs {
		out = append(out, workload{"CronJob", c.Name, c.Spec.JobTemplate.Spec.Template.Labels, &c.Spec.JobTemplate.Spec.Template.Spec})
	}
	return out
}

func (w workload) String() string { return w.kind + "/" + w.name }

// selects reports whether every selector label is on the pod.
func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}

// env is what a container's $(VAR) references can resolve to: its env
// entries (literal values, or a stand-in for downward-API fields) and the
// keys of the ConfigMaps it imports. Secret keys are unknown here, so a
// $(VAR) must never depend on one.
func (r *rendered) env(t *testing.T, w workload, c corev1.Container, fields map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, ok := r.configMaps[from.ConfigMapRef.Name]
			if !ok {
				if from.ConfigMapRef.Optional == nil || !*from.ConfigMapRef.Optional {
					t.Errorf("%s: envFrom ConfigMap %q does not exist", w, from.ConfigMapRef.Name)
				}
				continue
			}
			maps.Copy(out, cm.Data)
		case from.SecretRef != nil:
			if from.SecretRef.Optional == nil || !*from.SecretRef.Optional {
				t.Errorf("%s: envFrom Secret %q must be optional: no manifest creates it", w, from.SecretRef.Name)
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			out[e.Name] = expand(e.Value, out)
		case e.ValueFrom.FieldRef != nil:
			v, ok := fields[e.ValueFrom.FieldRef.FieldPath]
			if !ok {
				t.Errorf("%s: env %s: no stand-in value for field %q", w, e.Name, e.ValueFrom.FieldRef.FieldPath)
			}
			out[e.Name] = v
		default:
			t.Errorf("%s: env %s: only literal values and fieldRefs are checked", w, e.Name)
		}
	}
	return out
}

var varRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand does the kubelet's $(VAR) expansion: a defined variable is
// replaced, $$ is a literal $, an undefined reference stays as written.
func expand(s string, env map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := env[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// unresolved lists the $(VAR) references env cannot resolve.
func unresolved(s string, env map[string]string) []string {
	var out []string
	for _, m := range varRef.FindAllStringSubmatch(s, -1) {
		if m[1] != "" {
			if _, ok := env[m[1]]; !ok {
				out = append(out, m[1])
			}
		}
	}
	return out
}

// flags splits a dualread container's args into the subcommand path and
// --name=value flags (a bare --name is a boolean).
func flags(args []string) (path []string, fl map[string]string, err error) {
	fl = map[string]string{}
	i := 0
	for ; i < len(args) && !strings.HasPrefix(args[i], "-"); i++ {
		path = append(path, args[i])
	}
	for _, a := range args[i:] {
		if !strings.HasPrefix(a, "--") {
			return nil, nil, fmt.Errorf("argument %q: only --name=value flags after the subcommand (a positional argument would go unchecked)", a)
		}
		name, val, ok := strings.Cut(a[2:], "=")
		if !ok {
			val = "true"
		}
		if _, dup := fl[name]; dup {
			return nil, nil, fmt.Errorf("--%s given twice", name)
		}
		fl[name] = val
	}
	return path, fl, nil
}

// containerPort resolves a probe's or Service's port (name or number) to a
// container port number; 0 if the container has no such port.
func containerPort(c corev1.Container, name string, num int32) int32 {
	for _, p := range c.Ports {
		if (name != "" && p.Name == name) || (name == "" && p.ContainerPort == num) {
			return p.ContainerPort
		}
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
