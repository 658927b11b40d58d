package natscluster

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// NATS test clusters take their ports from 4300-9999: below the kernel's
// ephemeral range (so no ":0" listener or outgoing connection takes the
// port of a node a test has killed and will start again) and apart from
// the ranges of e2e's embedded servers (10000-19999) and of slapd
// (20000-32000).
const natsPortLow, natsPortHigh = 4300, 10000

// reservedPorts are ports handed to a cluster of this process: two
// clusters of one test binary never draw the same port.
var reservedPorts sync.Map // int -> struct{}

// freeClusterPorts returns n distinct ports that are free on 127.0.0.1 and
// not handed out before in this process.
func freeClusterPorts(n int) ([]int, error) {
	hi := min(natsPortHigh, ephemeralLow())
	var ports []int
	for tries := 0; len(ports) < n && tries < 50*n; tries++ {
		p := natsPortLow + rand.IntN(hi-natsPortLow)
		if _, taken := reservedPorts.LoadOrStore(p, struct{}{}); taken {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue // in use: stays reserved, nobody here will want it
		}
		ln.Close()
		ports = append(ports, p)
	}
	if len(ports) < n {
		return nil, fmt.Errorf("find %d free ports in %d-%d: found %d", n, natsPortLow, hi, len(ports))
	}
	return ports, nil
}

// ephemeralLow is the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return 32768
	}
	lo, err := strconv.Atoi(f[0])
	if err != nil || lo <= natsPortLow {
		return 32768
	}
	return lo
}
