package standin

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ScriptPath is deploy/local/standins.sh relative to the repository root:
// it installs the stand-ins under .cache/standins and execs each server.
const ScriptPath = "deploy/local/standins.sh"

// RepoRoot walks up from dir to the folder holding go.mod. Tests run in
// their package folder and `make run` in the root, so this finds the
// repository from wherever it is called.
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
			return "", errors.New("standin: no go.mod above " + dir)
		}
		d = parent
	}
}

// Script returns the absolute path of standins.sh in the repository above
// the working directory, with an error a user can act on when there is none.
func Script() (root, script string, err error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", "", err
	}
	root, err = RepoRoot(wd)
	if err == nil {
		script = filepath.Join(root, ScriptPath)
		_, err = os.Stat(script)
	}
	if err != nil {
		return "", "", fmt.Errorf("standin: %s not found above %s (run from the dualread repository): %w", ScriptPath, wd, err)
	}
	return root, script, nil
}

// ScriptSpec is the Spec of `standins.sh ARGS...` run from the repository
// root; the caller adds Name, Ready, Timeout and LogPath.
func ScriptSpec(args ...string) (Spec, error) {
	root, script, err := Script()
	if err != nil {
		return Spec{}, err
	}
	return Spec{Path: script, Args: args, Dir: root}, nil
}

// FreePort returns a loopback TCP port nobody listened on a moment ago. The
// port is released before returning, so another process may take it first;
// a start on it then fails loudly rather than talking to a stranger.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// CheckPort returns nil when 127.0.0.1:port can be listened on now (the
// bind every server here makes), and otherwise why not; ErrPortInUse when
// another process holds it.
func CheckPort(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("127.0.0.1:%d: %w", port, ErrPortInUse)
		}
		return err
	}
	return l.Close()
}

// ErrPortInUse says a port is already taken by another process.
var ErrPortInUse = errors.New("port already in use")

// EnvSpannerEmulatorBinary names the emulator_main binary to use instead of
// looking for the one gcloud installs.
const EnvSpannerEmulatorBinary = "DUALREAD_SPANNER_EMULATOR"

// SpannerEmulatorPackage is the Debian package that ships emulator_main.
const SpannerEmulatorPackage = "google-cloud-cli-spanner-emulator"

// SpannerEmulatorBinary finds the official Cloud Spanner emulator: the path in
// $DUALREAD_SPANNER_EMULATOR, the file the Debian package installed (asked of
// dpkg, so a relocated SDK is found too), or the usual SDK locations. It
// returns "" when there is none.
func SpannerEmulatorBinary() string {
	if p := os.Getenv(EnvSpannerEmulatorBinary); p != "" {
		return p
	}
	if out, err := exec.Command("dpkg", "-L", SpannerEmulatorPackage).Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if filepath.Base(line) == "emulator_main" && executable(line) {
				return line
			}
		}
	}
	for _, root := range []string{"/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/opt/google-cloud-sdk"} {
		if p := filepath.Join(root, "bin", "cloud_spanner_emulator", "emulator_main"); executable(p) {
			return p
		}
	}
	return ""
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
