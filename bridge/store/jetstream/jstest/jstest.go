// Package jstest runs NATS JetStream servers in the test process: one
// server, or a cluster on loopback ports with file storage in temporary
// folders, whose nodes a test can stop and start again.
package jstest

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Cluster is a set of JetStream servers routed to each other.
type Cluster struct {
	t       testing.TB
	name    string
	mu      sync.Mutex
	servers []*server.Server
	opts    []*server.Options
}

// Start runs a cluster of n servers (n 1: a single server without
// clustering) and stops it when the test ends.
func Start(t testing.TB, n int) *Cluster { return StartWith(t, n, nil) }

// StartWith is Start with each server's options changed by tune (nil:
// none).
func StartWith(t testing.TB, n int, tune func(*server.Options)) *Cluster {
	t.Helper()
	c := &Cluster{t: t, name: "alertbridge-test"}
	clientPorts, routePorts := freePorts(t, n), freePorts(t, n)
	var routes []string
	for _, p := range routePorts {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	dir := t.TempDir()
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("n%d", i),
			Host:       "127.0.0.1",
			Port:       clientPorts[i],
			JetStream:  true,
			StoreDir:   filepath.Join(dir, fmt.Sprintf("n%d", i)),
			NoLog:      true,
			NoSigs:     true,
			// Small limits: the cluster runs next to the tests.
			JetStreamMaxMemory: 64 << 20,
			JetStreamMaxStore:  1 << 30,
		}
		if tune != nil {
			tune(o)
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: c.name, Host: "127.0.0.1", Port: routePorts[i]}
			o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		}
		c.opts = append(c.opts, o)
		c.servers = append(c.servers, nil)
	}
	for i := range n {
		c.Restart(i)
	}
	t.Cleanup(c.Shutdown)
	c.WaitReady(30 * time.Second)
	return c
}

// URLs returns the client URLs of every node, comma separated.
func (c *Cluster) URLs() string {
	var urls []string
	for _, o := range c.opts {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(urls, ",")
}

// Stop stops node i, as a crash would (its files stay).
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	s := c.servers[i]
	c.servers[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Restart starts node i (again), on its ports and files.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	o := *c.opts[i]
	s, err := server.NewServer(&o)
	if err != nil {
		c.t.Fatalf("nats node %d: %v", i, err)
	}
	go s.Start()
	if !s.ReadyForConnections(20 * time.Second) {
		c.t.Fatalf("nats node %d did not start", i)
	}
	c.mu.Lock()
	c.servers[i] = s
	c.mu.Unlock()
}

// Shutdown stops every node.
func (c *Cluster) Shutdown() {
	for i := range c.servers {
		c.Stop(i)
	}
}

// WaitReady waits until JetStream answers on every running node (a
// cluster has elected its meta leader).
func (c *Cluster) WaitReady(timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok := true
		c.mu.Lock()
		for _, s := range c.servers {
			if s != nil && !s.JetStreamIsCurrent() {
				ok = false
			}
			if s != nil && len(c.servers) > 1 && s.JetStreamIsClustered() && !s.JetStreamIsLeader() && s.JetStreamIsCurrent() == false {
				ok = false
			}
		}
		c.mu.Unlock()
		if ok {
			nc, err := nats.Connect(c.URLs())
			if err == nil {
				js, jerr := nc.JetStream()
				if jerr == nil {
					if _, err = js.AccountInfo(); err == nil {
						nc.Close()
						return
					}
				}
				nc.Close()
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the NATS cluster was not ready in %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Connect opens a client connection to the cluster that reconnects for
// ever, closed when the test ends.
func (c *Cluster) Connect(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(c.URLs(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond), nats.ReconnectBufSize(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// freePorts reserves n loopback ports and releases them for the servers.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
