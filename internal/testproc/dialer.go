package testproc

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
)

// Dialer dials and counts: Connected, the connections the kernel completed;
// Sent, those whose first write has returned. On loopback a written request
// is in the server's socket, so a test that waits for Sent knows every
// request has arrived, without waiting on time.
type Dialer struct {
	Connected atomic.Int32
	Sent      atomic.Int32
	d         net.Dialer
}

// DialContext dials as net.Dialer does; it fits http.Transport.DialContext.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := d.d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.Connected.Add(1)
	return &sentConn{Conn: conn, sent: &d.Sent}, nil
}

// sentConn counts its first write in sent.
type sentConn struct {
	net.Conn
	sent *atomic.Int32
	once sync.Once
}

func (c *sentConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err == nil {
		c.once.Do(func() { c.sent.Add(1) })
	}
	return n, err
}
