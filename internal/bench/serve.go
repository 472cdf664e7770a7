package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server is an http.Handler served on a loopback port by this process, so
// in-process targets (the bare handler, the adapter) are measured over real
// TCP exactly like an external endpoint.
type Server struct {
	URL  string // http://127.0.0.1:PORT
	srv  *http.Server
	done chan error
}

// Serve starts handler on 127.0.0.1 at a free port.
func Serve(handler http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: listen: %w", err)
	}
	s := &Server{
		URL: "http://" + ln.Addr().String(),
		srv: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
		},
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server, waiting briefly for requests in flight.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// BareServer is a running bare handler.
type BareServer struct {
	*Server
	Handler *BareHandler
}

// StartBareHandler serves a BareHandler (see NewBareHandler) on a loopback
// port: the "ceiling" target of a comparison. Close it when done.
func StartBareHandler(opts BareOptions) (*BareServer, error) {
	h := NewBareHandler(opts)
	s, err := Serve(h)
	if err != nil {
		return nil, err
	}
	return &BareServer{Server: s, Handler: h}, nil
}
