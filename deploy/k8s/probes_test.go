package k8s

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestAdapterProbesAnswer starts the image's binary as `serve` (embedded
// backend: the probes' target does not depend on the store kind) and sends
// the adapter Deployment's HTTP probes to the ports their flags bind: each
// must answer 200, as the kubelet requires. The static checks know which
// flag binds a probe's port; this proves what that server really serves.
func TestAdapterProbesAnswer(t *testing.T) {
	r := render(t, "base")
	var w *workload
	for _, wl := range r.workloads() {
		if c := wl.spec.Containers; wl.kind == "Deployment" && len(c[0].Args) > 0 && c[0].Args[0] == "serve" {
			w = &wl
		}
	}
	if w == nil {
		t.Fatal("no Deployment runs serve")
	}
	c := w.spec.Containers[0]
	_, fl, err := flags(c.Args)
	if err != nil {
		t.Fatal(err)
	}
	// Map each listening flag to a free loopback port.
	local := map[int32]int{}
	args := []string{"serve", "--backend=embedded", "--log-format=text"}
	for _, f := range listenFlags {
		v, ok := fl[f]
		if !ok {
			continue
		}
		_, port, _ := net.SplitHostPort(v)
		p, _ := strconv.Atoi(port)
		local[int32(p)] = freePort(t)
		args = append(args, fmt.Sprintf("--%s=127.0.0.1:%d", f, local[int32(p)]))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	probes := 0
	for _, pr := range []struct {
		name string
		p    *corev1.Probe
	}{{"startup", c.StartupProbe}, {"readiness", c.ReadinessProbe}, {"liveness", c.LivenessProbe}} {
		if pr.p == nil || pr.p.HTTPGet == nil {
			continue
		}
		port := resolvePort(c, pr.p.HTTPGet.Port)
		u := fmt.Sprintf("http://127.0.0.1:%d%s", local[port], pr.p.HTTPGet.Path)
		var last string
		ok := false
		for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline) && !ok; {
			select {
			case err := <-exited:
				exited <- err
				t.Fatalf("dualread %v exited: %v\n%s", args, err, stderr.String())
			default:
			}
			resp, err := http.Get(u)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				ok, last = resp.StatusCode == http.StatusOK, fmt.Sprintf("%d %s", resp.StatusCode, b)
			} else {
				last = err.Error()
			}
			if !ok {
				time.Sleep(200 * time.Millisecond)
			}
		}
		if !ok {
			t.Errorf("%s probe GET %s (container port %d): %s", pr.name, pr.p.HTTPGet.Path, port, last)
		}
		probes++
	}
	if probes == 0 {
		t.Fatal("the adapter has no HTTP probes")
	}
}
