package e2e

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// cutProxy forwards TCP connections to a directory and, once armed, cuts
// every connection after the server has sent cutAfter bytes: a connection
// that drops in the middle of a read, at a point the test chooses.
type cutProxy struct {
	ln       net.Listener
	target   string
	cutAfter atomic.Int64 // 0: never cut
	largest  atomic.Int64 // the most bytes the server sent on one connection
	mu       sync.Mutex
	conns    []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.closeAll() })
	return p
}

func (p *cutProxy) Addr() string { return p.ln.Addr().String() }

// Largest returns the most bytes the server has sent on one connection so
// far: what a complete read takes, to cut a later one in its middle.
func (p *cutProxy) Largest() int64 { return p.largest.Load() }

// CutAfter arms the proxy (0 disarms it).
func (p *cutProxy) CutAfter(n int64) { p.cutAfter.Store(n) }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *cutProxy) handle(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, client, server)
	p.mu.Unlock()
	limit := p.cutAfter.Load()
	go func() { _, _ = io.Copy(server, client); server.Close() }()
	var src io.Reader = &countingReader{r: server, max: &p.largest}
	if limit > 0 {
		src = io.LimitReader(server, limit)
	}
	_, _ = io.Copy(client, src)
	client.Close()
	server.Close()
}

func (p *cutProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// countingReader counts the bytes read through it and raises max to the
// count.
type countingReader struct {
	r   io.Reader
	n   int64
	max *atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	for {
		m := c.max.Load()
		if c.n <= m || c.max.CompareAndSwap(m, c.n) {
			break
		}
	}
	return n, err
}
