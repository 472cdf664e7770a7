package k8s

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/dualread/dualread/audit/access"
	"github.com/dualread/dualread/internal/testenv"
)

// TestInfluxDBSetupJob runs the setup Job's own script (command, args and
// mounted statements as rendered) with the real influx CLI against a real,
// empty InfluxDB 1.8, twice (a Job may run again), then checks the database
// and retention policies the components expect: INFLUX_DB exists, autogen
// is its default, and access_24h is exactly the policy the access audit
// creates, so serve's own CREATE does not fail. A bad statement must make
// the script fail, so a broken setup cannot pass as done.
func TestInfluxDBSetupJob(t *testing.T) {
	r := render(t, "base")
	var w workload
	var c corev1.Container
	for _, wl := range r.workloads() {
		if wl.name == setupJob {
			w, c = wl, wl.spec.Containers[0]
		}
	}
	if w.spec == nil {
		t.Fatalf("no Job %s", setupJob)
	}
	if c.Image != setupImage || len(c.Command) != 2 || c.Command[0] != "/bin/bash" || len(c.Args) != 1 {
		t.Fatalf("%s: want image %s running /bin/bash -c SCRIPT, got %s %v", w, setupImage, c.Image, c.Command)
	}
	env := r.env(t, w, c, downward)
	statements := ""
	for _, m := range c.VolumeMounts {
		for _, v := range w.spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				for k, s := range r.configMaps[v.ConfigMap.Name].Data {
					if strings.Contains(c.Args[0], filepath.Join(m.MountPath, k)) {
						statements = s
					}
				}
			}
		}
	}
	if statements == "" {
		t.Fatalf("%s: the script reads no file of its mounted ConfigMaps", w)
	}
	db := env["INFLUX_DB"]
	if !regexp.MustCompile(`(?m)^CREATE DATABASE "` + regexp.QuoteMeta(db) + `"$`).MatchString(statements) {
		t.Fatalf("the statements do not create INFLUX_DB %q:\n%s", db, statements)
	}

	wd, _ := os.Getwd()
	root, err := testenv.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(root, ".cache", "standins", "bin", "influx")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the influx CLI (installed with influxd by deploy/local/standins.sh): %v", err)
	}
	url := testenv.StartInfluxDB(t) // no database: the Job creates it
	ctx := context.Background()

	run := func(file string) (string, error) {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, "bash", "-c", c.Args[0])
		cmd.Env = []string{"PATH=" + filepath.Dir(cli) + ":/usr/bin:/bin", "HOME=" + t.TempDir(),
			"INFLUX_URL=" + url, "INFLUX_DB=" + db, "INIT_FILE=" + file}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	file := filepath.Join(t.TempDir(), "init.iql")
	if err := os.WriteFile(file, []byte(statements), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if out, err := run(file); err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, out)
		}
	}

	rps, err := testenv.InfluxQuery(ctx, url, "", "SHOW RETENTION POLICIES ON "+testenv.QuoteInfluxIdent(db))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range rps.Results[0].Series {
		for _, row := range s.Values {
			got[fmt.Sprint(row[0])] = fmt.Sprintf("%v default=%v", row[1], row[4])
		}
	}
	want := map[string]string{"autogen": "2160h0m0s default=true", access.RetentionPolicy: "24h0m0s default=false"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("retention policy %s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	// The statement access.EnsureRetention sends (audit/access/access.go):
	// InfluxDB refuses it if a policy of that name exists with other
	// settings, and EnsureRetention would not notice (it reads only the
	// HTTP status), so check it here statement by statement.
	q := fmt.Sprintf(`CREATE RETENTION POLICY %q ON %q DURATION 24h REPLICATION 1`, access.RetentionPolicy, db)
	if err := testenv.InfluxQL(ctx, url, "", q); err != nil {
		t.Errorf("after setup, the access audit's own statement fails: %v", err)
	}
	if err := access.EnsureRetention(ctx, url, db); err != nil {
		t.Errorf("access.EnsureRetention: %v", err)
	}

	bad := filepath.Join(t.TempDir(), "bad.iql")
	if err := os.WriteFile(bad, []byte("CREATE DATABASE \"x\"\nCREATE NONSENSE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(bad); err == nil {
		t.Errorf("a bad statement did not fail the script:\n%s", out)
	}
}
