package k8s

import (
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dualread/dualread/adapter/config"
	"github.com/dualread/dualread/streamproc/backfill"
)

// setupImage is the one container image that is not dualread's: the
// InfluxDB setup Job needs the influx CLI (TestInfluxDBSetupJob runs it).
const (
	setupImage = "influxdb:1.8.10"
	setupJob   = "dualread-influxdb-setup"
)

// externalHosts are cluster-local names the manifests use but do not
// create: the operator's InfluxDB (INFLUX_URL in dualread-env).
var externalHosts = []string{"influxdb"}

// downward is a stand-in for each downward-API field the manifests read.
var downward = map[string]string{
	"metadata.name": "dualread-streamproc-7d9f-x2x4z",
	"metadata.annotations['batch.kubernetes.io/job-completion-index']": "0",
}

// listenFlags bind a server; their ports must be the container's ports.
var listenFlags = []string{"listen", "admin-listen", "metrics-listen"}

// healthzFlags bind the servers that answer GET /healthz: serve's admin API
// (adapter/admin) and streamproc's/backfill's metrics listener.
var healthzFlags = []string{"admin-listen", "metrics-listen"}

// TestManifests renders every kustomization and checks each container,
// workload and Service in it; see the package comment.
func TestManifests(t *testing.T) {
	img := readImage(t)
	for _, dir := range kustomizations {
		t.Run(dir, func(t *testing.T) {
			r := render(t, dir)
			seen := map[string]bool{} // subcommands run
			var dualreadImage string
			for _, w := range r.workloads() {
				if w.spec.ServiceAccountName != "" && !r.serviceAccts[w.spec.ServiceAccountName] {
					t.Errorf("%s: serviceAccountName %q is not created", w, w.spec.ServiceAccountName)
				}
				for _, v := range w.spec.Volumes {
					if v.ConfigMap != nil && r.configMaps[v.ConfigMap.Name] == nil {
						t.Errorf("%s: volume %s: ConfigMap %q is not created", w, v.Name, v.ConfigMap.Name)
					}
					if v.PersistentVolumeClaim != nil && !r.pvcs[v.PersistentVolumeClaim.ClaimName] {
						t.Errorf("%s: volume %s: PVC %q is not created", w, v.Name, v.PersistentVolumeClaim.ClaimName)
					}
				}
				for _, c := range w.spec.Containers {
					if c.Image == setupImage && w.name == setupJob {
						continue // TestInfluxDBSetupJob
					}
					if !isImage(c.Image, img.title) {
						t.Errorf("%s: image %q is not the %q image deploy/docker/Dockerfile builds", w, c.Image, img.title)
					}
					if dualreadImage == "" {
						dualreadImage = c.Image
					} else if c.Image != dualreadImage {
						t.Errorf("%s: image %q, other containers run %q", w, c.Image, dualreadImage)
					}
					if len(c.Command) > 0 {
						t.Errorf("%s: command %v overrides the image's ENTRYPOINT %v", w, c.Command, img.entrypoint)
					}
					sub := checkContainer(t, r, w, c)
					seen[sub] = true
				}
			}
			for _, want := range []string{"serve", "audit", "streamproc", "backfill", "drill"} {
				if !seen[want] {
					t.Errorf("no container runs `dualread %s`", want)
				}
			}
			checkServices(t, r)
			checkPolicies(t, r)
			checkBackfill(t, r)
			checkSchedules(t, r)
		})
	}
}

// isImage: ref names the image (any registry, a tag or digest required).
func isImage(ref, name string) bool {
	repo, tag, ok := strings.Cut(ref, "@")
	if !ok {
		i := strings.LastIndex(ref, ":")
		if i < 0 || strings.Contains(ref[i:], "/") {
			return false
		}
		repo, tag = ref[:i], ref[i+1:]
	}
	return path.Base(repo) == name && tag != ""
}

// checkContainer checks one dualread container and returns its subcommand.
func checkContainer(t *testing.T, r *rendered, w workload, c corev1.Container) string {
	t.Helper()
	env := r.env(t, w, c, downward)
	var args []string
	for _, a := range c.Args {
		if u := unresolved(a, env); len(u) > 0 {
			t.Errorf("%s: argument %q: $(%s) is not defined in the container's env or its ConfigMaps", w, a, strings.Join(u, "), $("))
		}
		args = append(args, expand(a, env))
	}
	sub, fl, err := flags(args)
	if err != nil || len(sub) == 0 {
		t.Errorf("%s: args %v: %v (want a subcommand then flags)", w, args, err)
		return ""
	}
	if out, err := helpOf(t, args, sub); err != nil {
		t.Errorf("%s: `dualread %s --help` fails, so the binary refuses these args: %v\n%s", w, strings.Join(args, " "), err, out)
	}
	for k := range env {
		if strings.HasPrefix(k, "DUALREAD_") && !slices.ContainsFunc(config.Env, func(e struct{ Name, Key string }) bool { return e.Name == k }) {
			t.Errorf("%s: env %s is not a variable adapter/config reads", w, k)
		}
	}

	// Ports: each listening flag's port is a container port, each
	// container port is bound by a flag, and servers listen beyond loopback.
	bound := map[int32]string{}
	for _, f := range listenFlags {
		v, ok := fl[f]
		if !ok {
			continue
		}
		host, port, err := net.SplitHostPort(v)
		p, perr := strconv.Atoi(port)
		if err != nil || perr != nil {
			t.Errorf("%s: --%s=%s: not host:port", w, f, v)
			continue
		}
		if host != "0.0.0.0" && host != "" {
			t.Errorf("%s: --%s=%s: kubelet probes and Services cannot reach %s", w, f, v, host)
		}
		if containerPort(c, "", int32(p)) == 0 {
			t.Errorf("%s: --%s=%s: port %d is not a container port", w, f, v, p)
		}
		bound[int32(p)] = f
	}
	for _, p := range c.Ports {
		if _, ok := bound[p.ContainerPort]; !ok {
			t.Errorf("%s: container port %s/%d: no --listen flag binds it", w, p.Name, p.ContainerPort)
		}
	}
	for name, pr := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
		if pr == nil {
			continue
		}
		switch {
		case pr.HTTPGet != nil:
			p := resolvePort(c, pr.HTTPGet.Port)
			if p == 0 {
				t.Errorf("%s: %s probe port %s is not a container port", w, name, pr.HTTPGet.Port.String())
			} else if !slices.Contains(healthzFlags, bound[p]) || pr.HTTPGet.Path != "/healthz" {
				t.Errorf("%s: %s probe GET %s on port %d (--%s): /healthz is served only on --admin-listen and --metrics-listen",
					w, name, pr.HTTPGet.Path, p, bound[p])
			}
		case pr.TCPSocket != nil:
			if resolvePort(c, pr.TCPSocket.Port) == 0 {
				t.Errorf("%s: %s probe port %s is not a container port", w, name, pr.TCPSocket.Port.String())
			}
		default:
			t.Errorf("%s: %s probe: only httpGet and tcpSocket are checked", w, name)
		}
	}
	if w.kind == "Deployment" && c.ReadinessProbe == nil {
		t.Errorf("%s: a Deployment's container needs a readiness probe", w)
	}

	// Hosts named in flags: a cluster-local name is a Service of this
	// render, with that port.
	for f, v := range fl {
		host, port := hostPort(v)
		if host == "" || strings.Contains(host, ".") || host == "localhost" || slices.Contains(externalHosts, host) {
			continue
		}
		if !serviceHasPort(r, host, port) {
			t.Errorf("%s: --%s=%s: no Service %q with port %s in this render", w, f, v, host, port)
		}
	}

	if file, ok := fl["config"]; ok {
		checkConfig(t, r, w, c, file, env)
	}
	switch sub[0] {
	case "serve":
		grace := w.spec.TerminationGracePeriodSeconds
		d, err := time.ParseDuration(fl["shutdown-timeout"])
		if err != nil || grace == nil || time.Duration(*grace)*time.Second <= d {
			t.Errorf("%s: terminationGracePeriodSeconds must exceed --shutdown-timeout=%s, or the kubelet kills draining requests", w, fl["shutdown-timeout"])
		}
		if c.Resources.Requests.Cpu().IsZero() {
			t.Errorf("%s: no CPU request: the HPA's utilization target needs one", w)
		}
	case "streamproc":
		if fl["owner"] == "" || fl["lease"] == "" {
			t.Errorf("%s: streamproc needs --owner and --lease set explicitly", w)
		}
	}
	return sub[0]
}

func resolvePort(c corev1.Container, p intstr.IntOrString) int32 {
	if p.Type == intstr.String {
		return containerPort(c, p.StrVal, 0)
	}
	return containerPort(c, "", p.IntVal)
}

// hostPort extracts host and port from a URL (http://h:p/...) or a bare
// host:port flag value; "" if the value is neither.
func hostPort(v string) (string, string) {
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil {
			return "", ""
		}
		p := u.Port()
		if p == "" {
			p = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		return u.Hostname(), p
	}
	h, p, err := net.SplitHostPort(v)
	if err != nil || h == "" || h == "0.0.0.0" {
		return "", ""
	}
	if _, err := strconv.Atoi(p); err != nil {
		return "", ""
	}
	return h, p
}

func serviceHasPort(r *rendered, name, port string) bool {
	for _, s := range r.services {
		if s.Name != name {
			continue
		}
		for _, p := range s.Spec.Ports {
			if strconv.Itoa(int(p.Port)) == port {
				return true
			}
		}
	}
	return false
}

// checkConfig: --config names a file mounted from a rendered ConfigMap, and
// adapter/config's loader (the one serve, streamproc and backfill use)
// accepts it with the container's environment.
func checkConfig(t *testing.T, r *rendered, w workload, c corev1.Container, file string, env map[string]string) {
	t.Helper()
	dir, key := filepath.Dir(file), filepath.Base(file)
	var content string
	found := false
	for _, m := range c.VolumeMounts {
		if m.MountPath != dir || m.SubPath != "" {
			continue
		}
		for _, v := range w.spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				if cm := r.configMaps[v.ConfigMap.Name]; cm != nil {
					content, found = cm.Data[key]
				}
			}
		}
	}
	if !found {
		t.Errorf("%s: --config=%s: no ConfigMap volume mounted at %s holds %s", w, file, dir, key)
		return
	}
	tmp := filepath.Join(t.TempDir(), key)
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := config.Load(tmp, func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Errorf("%s: %s is refused by adapter/config: %v", w, file, err)
		return
	}
	if home := f.Home(); home == "embedded" {
		t.Errorf("%s: %s keeps tables in the embedded store, lost when the pod stops", w, file)
	}
}

// checkServices: each Service selects exactly one workload's pods and its
// target ports are that workload's container ports.
func checkServices(t *testing.T, r *rendered) {
	t.Helper()
	for _, s := range r.services {
		var matched []workload
		for _, w := range r.workloads() {
			if selects(s.Spec.Selector, w.labels) {
				matched = append(matched, w)
			}
		}
		if len(matched) != 1 {
			t.Errorf("Service %s: selector %v matches %d workloads, want 1", s.Name, s.Spec.Selector, len(matched))
			continue
		}
		for _, p := range s.Spec.Ports {
			ok := false
			for _, c := range matched[0].spec.Containers {
				ok = ok || resolvePort(c, p.TargetPort) != 0
			}
			if !ok {
				t.Errorf("Service %s port %d: targetPort %s is not a container port of %s", s.Name, p.Port, p.TargetPort.String(), matched[0])
			}
		}
	}
	for _, d := range r.deployments {
		if d.Spec.Selector == nil || !selects(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			t.Errorf("Deployment %s: selector does not match its pod template", d.Name)
		}
		// Leases make several stream processors safe; one would be a
		// single point of failure for replication.
		if c := d.Spec.Template.Spec.Containers; len(c) > 0 && len(c[0].Args) > 0 && c[0].Args[0] == "streamproc" &&
			(d.Spec.Replicas == nil || *d.Spec.Replicas < 2) {
			t.Errorf("Deployment %s: want 2 or more streamproc replicas", d.Name)
		}
	}
}

// checkPolicies: the HPA, PDB and NetworkPolicy refer to what exists.
func checkPolicies(t *testing.T, r *rendered) {
	t.Helper()
	deployment := func(labels map[string]string) *workload {
		for _, w := range r.workloads() {
			if w.kind == "Deployment" && selects(labels, w.labels) {
				return &w
			}
		}
		return nil
	}
	if len(r.hpas) == 0 || len(r.pdbs) == 0 {
		t.Errorf("want an HPA and a PDB for the adapter, got %d and %d", len(r.hpas), len(r.pdbs))
	}
	for _, h := range r.hpas {
		ok := false
		for _, d := range r.deployments {
			ok = ok || (h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == d.Name)
		}
		if !ok {
			t.Errorf("HPA %s: target %s/%s does not exist", h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 {
			t.Errorf("HPA %s: minReplicas below 2 leaves the PDB nothing to keep", h.Name)
		}
	}
	for _, p := range r.pdbs {
		if p.Spec.Selector == nil || deployment(p.Spec.Selector.MatchLabels) == nil {
			t.Errorf("PDB %s: selects no Deployment", p.Name)
		}
	}
	for _, np := range r.netpols {
		w := deployment(np.Spec.PodSelector.MatchLabels)
		if w == nil {
			t.Errorf("NetworkPolicy %s: selects no Deployment", np.Name)
			continue
		}
		for _, in := range np.Spec.Ingress {
			for _, p := range in.Ports {
				ok := false
				for _, c := range w.spec.Containers {
					ok = ok || (p.Port != nil && resolvePort(c, *p.Port) != 0)
				}
				if !ok {
					t.Errorf("NetworkPolicy %s: port %v is not a container port of %s", np.Name, p.Port, w)
				}
			}
			for _, from := range in.From {
				if from.PodSelector == nil {
					continue
				}
				ok := false
				for _, other := range r.workloads() {
					ok = ok || selects(from.PodSelector.MatchLabels, other.labels)
				}
				if !ok {
					t.Errorf("NetworkPolicy %s: from %v matches no pods", np.Name, from.PodSelector.MatchLabels)
				}
			}
		}
	}
}

// checkBackfill: the Indexed Job's pods, one per completion index, cover
// the table's segments exactly once (as backfill parses --segments).
func checkBackfill(t *testing.T, r *rendered) {
	t.Helper()
	for _, j := range r.jobs {
		c := j.Spec.Template.Spec.Containers[0]
		if len(c.Args) == 0 || c.Args[0] != "backfill" {
			continue
		}
		if j.Spec.CompletionMode == nil || *j.Spec.CompletionMode != "Indexed" || j.Spec.Completions == nil {
			t.Errorf("Job %s: want completionMode Indexed with completions", j.Name)
			continue
		}
		if j.Spec.Suspend == nil || !*j.Spec.Suspend {
			t.Errorf("Job %s: want suspend: true (start it once streamproc runs)", j.Name)
		}
		n := int(*j.Spec.Completions)
		covered := map[int]int{}
		total := -1
		for i := range n {
			fields := map[string]string{}
			for k, v := range downward {
				fields[k] = v
			}
			fields["metadata.annotations['batch.kubernetes.io/job-completion-index']"] = strconv.Itoa(i)
			env := r.env(t, workload{"Job", j.Name, nil, &j.Spec.Template.Spec}, c, fields)
			var args []string
			for _, a := range c.Args {
				args = append(args, expand(a, env))
			}
			_, fl, err := flags(args)
			if err != nil {
				t.Fatal(err)
			}
			seg, err := backfill.ParseSegments(fl["segments"])
			if err != nil {
				t.Fatalf("Job %s index %d: --segments=%s: %v", j.Name, i, fl["segments"], err)
			}
			if total >= 0 && seg.Total != total {
				t.Errorf("Job %s index %d: total %d, others %d", j.Name, i, seg.Total, total)
			}
			total = seg.Total
			for s := seg.From; s <= seg.To; s++ {
				covered[s]++
			}
		}
		for s := range total {
			if covered[s] != 1 {
				t.Errorf("Job %s: segment %d/%d is scanned by %d pods, want 1", j.Name, s, total, covered[s])
			}
		}
		if len(covered) != total {
			t.Errorf("Job %s: pods cover %d segments of %d", j.Name, len(covered), total)
		}
	}
}

var daily = regexp.MustCompile(`^\d{1,2} \d{1,2} \* \* \*$`)

// checkSchedules: the drill runs daily, never two at once.
func checkSchedules(t *testing.T, r *rendered) {
	t.Helper()
	for _, c := range r.cronJobs {
		if !daily.MatchString(c.Spec.Schedule) {
			t.Errorf("CronJob %s: schedule %q is not once a day", c.Name, c.Spec.Schedule)
		}
		if c.Spec.ConcurrencyPolicy != "Forbid" {
			t.Errorf("CronJob %s: concurrencyPolicy %q: two drills would switch the same tables", c.Name, c.Spec.ConcurrencyPolicy)
		}
	}
}
