package jsonstr

import (
	"encoding/json"
	"testing"
)

// FuzzRead checks Read against encoding/json's own unquoting: same result
// for every string encoding/json accepts, and an error for every one it
// rejects.
func FuzzRead(f *testing.F) {
	for _, s := range []string{`"a"`, `"é\u00e9"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ud83d\u0041"`, `"\udc00x"`,
		`"a\"b\\c\/d\b\f\n\r\t"`, "\"\xff\xfe\"", `"\u12"`, `"\x"`, "\"\x01\"", `"open`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 || in[0] != '"' {
			return
		}
		got, next, ok := Read(in, 1)
		var want string
		err := json.Unmarshal(in[:max(next, 1)], &want)
		switch {
		case ok && err != nil:
			t.Fatalf("%q: Read accepted %q, encoding/json: %v", in, got, err)
		case ok && string(got) != want:
			t.Fatalf("%q: Read %q, encoding/json %q", in, got, want)
		case !ok && err == nil && next == len(in):
			t.Fatalf("%q: Read rejected what encoding/json reads as %q", in, want)
		}
	})
}
