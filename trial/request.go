package trial

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"os"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/runfolder"
)

// requestBody reads the body file of spec's request, if any.
func requestBody(spec Spec) ([]byte, error) {
	if spec.Request == nil || spec.Request.BodyFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(spec.Request.BodyFile)
	if err != nil {
		return nil, fmt.Errorf("request.body_file: %w", err)
	}
	return b, nil
}

// Target is the request the server's mode sends under load: POST /flip
// with no body unless its modes file says otherwise.
func (s *Server) Target() vegeta.Target {
	r := s.Spec.Request
	if r == nil {
		r = &runfolder.Request{}
	}
	t := vegeta.Target{Method: cmp.Or(r.Method, http.MethodPost), URL: s.URL(cmp.Or(r.Path, contract.PathFlip)), Body: s.body}
	if r.ContentType != "" || len(r.Headers) > 0 {
		t.Header = http.Header{}
		for k, v := range r.Headers {
			t.Header.Set(k, v)
		}
		if r.ContentType != "" {
			t.Header.Set("Content-Type", r.ContentType)
		}
	}
	return t
}

// newRequest makes an HTTP request of t.
func newRequest(ctx context.Context, t vegeta.Target) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, t.Method, t.URL, bytes.NewReader(t.Body))
	if err != nil {
		return nil, err
	}
	for k, vs := range t.Header {
		req.Header[k] = vs
	}
	return req, nil
}
