package k8s

import (
	"bufio"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/testenv"
)

const dockerfile = "../docker/Dockerfile"

// stage is one FROM ... of the Dockerfile.
type stage struct {
	from, name string
	env        map[string]string // ENV, and ARG defaults
	run        []string
	copies     [][]string // COPY arguments
	entrypoint []string
	labels     map[string]string
}

// parseDockerfile reads the instructions this Dockerfile uses (FROM, ARG,
// ENV, RUN, COPY, ENTRYPOINT, LABEL), joining continued lines.
func parseDockerfile(t *testing.T) []*stage {
	t.Helper()
	f, err := os.Open(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(l, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(l)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	var stages []*stage
	for _, l := range lines {
		instr, rest, _ := strings.Cut(l, " ")
		rest = strings.TrimSpace(rest)
		if strings.ToUpper(instr) == "FROM" {
			s := &stage{env: map[string]string{}, labels: map[string]string{}}
			f := strings.Fields(rest)
			s.from = f[0]
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("%s: %q before FROM", dockerfile, l)
		}
		s := stages[len(stages)-1]
		switch strings.ToUpper(instr) {
		case "ARG", "ENV":
			k, v, _ := strings.Cut(rest, "=")
			s.env[k] = v
		case "RUN":
			s.run = append(s.run, rest)
		case "COPY":
			s.copies = append(s.copies, strings.Fields(rest))
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &s.entrypoint); err != nil {
				t.Fatalf("ENTRYPOINT %s: want the exec (JSON) form: %v", rest, err)
			}
		case "LABEL":
			for _, kv := range splitLabels(rest) {
				k, v, _ := strings.Cut(kv, "=")
				s.labels[k] = strings.Trim(v, `"`)
			}
		}
	}
	return stages
}

// splitLabels splits `a="x y" b="z"` at spaces outside quotes.
func splitLabels(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// image is what the Dockerfile's final stage promises the manifests.
type image struct {
	title      string // org.opencontainers.image.title: the image name
	entrypoint []string
	binary     string // inside the image, where the build stage's binary is copied
	buildCmd   string // the build stage's `go build` RUN line
	buildOut   string // its -o path
	buildEnv   map[string]string
}

func readImage(t *testing.T) image {
	t.Helper()
	stages := parseDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("%s: want a multi-stage build, got %d stages", dockerfile, len(stages))
	}
	final := stages[len(stages)-1]
	var img image
	img.title, img.entrypoint = final.labels["org.opencontainers.image.title"], final.entrypoint
	for _, c := range final.copies {
		if len(c) == 3 && strings.HasPrefix(c[0], "--from=") {
			from := strings.TrimPrefix(c[0], "--from=")
			for _, s := range stages[:len(stages)-1] {
				if s.name != from {
					continue
				}
				for _, r := range s.run {
					if strings.Contains(r, "go build") && strings.Contains(r, "-o "+c[1]) {
						img.binary, img.buildCmd, img.buildOut, img.buildEnv = c[2], r, c[1], s.env
					}
				}
			}
		}
	}
	if img.buildCmd == "" {
		t.Fatalf("%s: the final stage copies no binary that a `go build -o` of an earlier stage made", dockerfile)
	}
	return img
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  string
)

// binary builds dualread exactly as the Dockerfile's build stage does (its
// ENV and ARG defaults, its `go build` line; only the -o path differs) and
// returns its path. Built once per test binary.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		img := readImage(t)
		wd, _ := os.Getwd()
		root, err := testenv.RepoRoot(wd)
		if err != nil {
			buildErr = err.Error()
			return
		}
		dir, err := os.MkdirTemp("", "dualread-image-*")
		if err != nil {
			buildErr = err.Error()
			return
		}
		builtBin = filepath.Join(dir, "dualread")
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-c", strings.Replace(img.buildCmd, "-o "+img.buildOut, "-o "+builtBin, 1))
		cmd.Dir = root
		cmd.Env = os.Environ()
		for k, v := range img.buildEnv {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = "the Dockerfile's go build failed: " + err.Error() + "\n" + string(out)
		}
	})
	if buildErr != "" {
		t.Fatal(buildErr)
	}
	return builtBin
}

// TestMain removes the built binary.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// TestDockerfile: the image is a static build of ./cmd/dualread on a
// distroless base, run as non-root, entrypoint = the copied binary; the
// binary the build line makes has no dynamic loader (it needs no libc).
func TestDockerfile(t *testing.T) {
	img := readImage(t)
	stages := parseDockerfile(t)
	final := stages[len(stages)-1]
	if !strings.Contains(final.from, "distroless/static") {
		t.Errorf("final stage FROM %s: want distroless/static (no shell, no libc)", final.from)
	}
	if img.title != "dualread" {
		t.Errorf("image title %q: the manifests run image %q", img.title, "dualread")
	}
	if len(img.entrypoint) != 1 || img.entrypoint[0] != img.binary {
		t.Errorf("ENTRYPOINT %v: want [%q], the copied binary", img.entrypoint, img.binary)
	}
	if !strings.Contains(img.buildCmd, "./cmd/dualread") || img.buildEnv["CGO_ENABLED"] != "0" {
		t.Errorf("build %q with env %v: want ./cmd/dualread with CGO_ENABLED=0", img.buildCmd, img.buildEnv)
	}
	checkBuildContext(t)
	f, err := elf.Open(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary is dynamically linked (PT_INTERP): it would not start on distroless/static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary needs shared libraries %v", libs)
	}
}

// helpOf runs `dualread ARGS... --help` with the image's binary. Cobra
// parses every flag (name and typed value) before it looks at --help, so
// exit 0 proves the subcommand exists and every flag is accepted; the
// output must be that subcommand's own help.
func helpOf(t *testing.T, args, path []string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), append(append([]string{}, args...), "--help")...)
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if err == nil && !strings.Contains(string(out), "Usage:\n  dualread "+strings.Join(path, " ")+" ") {
		return string(out), fmt.Errorf("the output is not the help of `dualread %s`", strings.Join(path, " "))
	}
	return string(out), err
}

// checkBuildContext: no package or embedded file of ./cmd/dualread lies in
// a path Dockerfile.dockerignore keeps out of the build context (the build
// here runs in the full tree, so it would not notice).
func checkBuildContext(t *testing.T) {
	t.Helper()
	raw, err := os.ReadFile(dockerfile + ".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var ignored []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			ignored = append(ignored, l)
		}
	}
	wd, _ := os.Getwd()
	root, err := testenv.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.Dir}}|{{join .EmbedFiles \",\"}}", "./cmd/dualread")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, embeds, _ := strings.Cut(l, "|")
		rel, err := filepath.Rel(root, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // the module cache or GOROOT
		}
		paths := []string{rel}
		for _, e := range strings.Split(embeds, ",") {
			if e != "" {
				paths = append(paths, filepath.Join(rel, e))
			}
		}
		for _, p := range paths {
			for _, pat := range ignored {
				if m, _ := filepath.Match(pat, p); m || p == pat || strings.HasPrefix(p, pat+"/") {
					t.Errorf("%s is needed by the build but %s.dockerignore excludes it (%s)", p, dockerfile, pat)
				}
			}
		}
	}
}
