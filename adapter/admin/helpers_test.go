package admin

import (
	"io"
	"net/http"
)

func readBody(w io.Writer, r *http.Response) (int64, error) { return io.Copy(w, r.Body) }
