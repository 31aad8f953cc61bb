package trial

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/flipbench/flipbench/contract"
)

// freePort asks the kernel for a free port of 127.0.0.1 for a plain server,
// which binds the port it is given: another process may take it between
// this close and the server's bind, a race the address file of contract
// servers avoids.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// plainVars are the placeholders a plain server's start fills in.
func plainVars(port int, image, tmpdir string) map[string]string {
	p := strconv.Itoa(port)
	return map[string]string{phPort: p, phAddr: net.JoinHostPort("127.0.0.1", p), phImage: image, phTmpDir: tmpdir}
}

// readyPath is the path whose 2xx says the server is ready, "" for a TCP
// connect.
func readyPath(spec Spec) string {
	switch spec.Ready {
	case "":
		return contract.PathHealth
	case ReadyTCP:
		return ""
	default:
		return spec.Ready
	}
}

// probe checks once whether the server at addr is ready as spec says. A
// ready answer that is a flipbench /healthz also returns its Health (ok
// true).
func probe(ctx context.Context, client *http.Client, spec Spec, addr string) (h contract.Health, raw json.RawMessage, ok bool, err error) {
	path := readyPath(spec)
	if path == "" {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return h, nil, false, err
		}
		c.Close()
		return h, nil, false, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return h, nil, false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return h, nil, false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return h, nil, false, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return h, nil, false, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	h, herr := contract.DecodeHealth(body)
	switch {
	case herr == nil:
		return h, json.RawMessage(body), true, nil
	case !spec.Plain:
		return h, nil, false, herr // a contract server's /healthz must say its capacity
	}
	return contract.Health{}, nil, false, nil
}
