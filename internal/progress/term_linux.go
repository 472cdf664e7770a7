//go:build linux

package progress

import (
	"os"
	"syscall"
	"unsafe"
)

// IsTerminal reports whether f is a terminal. A TCGETS ioctl succeeds only
// on a tty; checking for a character device is not enough (/dev/null is
// one, and a bar drawn into it or into a log collector is noise).
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
