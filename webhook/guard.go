package webhook

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Webhook URLs are chosen by admins, but the requests come from the
// server, inside its network: a URL naming the loopback interface, a
// private range or the cloud metadata address (169.254.169.254) would turn
// webhooks into a way to reach what only the server can reach. So, unless
// Options.AllowPrivateTargets is set (local development), the dialer
// refuses such addresses. The check runs on the address actually dialled,
// after DNS resolution, so a public-looking name that resolves to a private
// address, an integer-encoded address the resolver accepts, or a redirect
// target (redirects are not followed anyway) cannot get round it.

// blockedPrefixes are the ranges that are not the public internet, beyond
// what netip.Addr's predicates cover.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: embeds an IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local NAT64
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("2001::/32"),       // Teredo: embeds an IPv4 address
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated, still private)
	netip.MustParsePrefix("100::/64"),        // discard-only
}

// CheckTarget returns an error when ip is not a public unicast address:
// loopback, private, link-local, unspecified, multicast or another
// non-public range, IPv4 or IPv6 (an IPv4-mapped IPv6 address is judged as
// the IPv4 address it carries).
func CheckTarget(ip netip.Addr) error {
	ip = ip.Unmap()
	var why string
	switch {
	case !ip.IsValid():
		why = "not an IP address"
	case ip.IsLoopback():
		why = "a loopback address"
	case ip.IsPrivate():
		why = "a private address"
	case ip.IsLinkLocalUnicast():
		why = "a link-local address"
	case ip.IsUnspecified():
		why = "the unspecified address"
	case ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsLinkLocalMulticast():
		why = "a multicast address"
	default:
		for _, p := range blockedPrefixes {
			if p.Contains(ip) {
				why = "not a public address"
				break
			}
		}
	}
	if why == "" {
		return nil
	}
	return &blockedError{ip: ip, why: why}
}

// blockedError is a refused target: its text is ours, safe to record.
type blockedError struct {
	ip  netip.Addr
	why string
}

func (e *blockedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: %s (start the server with --webhook-allow-private to allow it)", e.ip, e.why)
}

// guardedControl is a net.Dialer Control function that refuses
// non-public addresses; it sees the resolved address of every connection
// attempt, before any packet is sent.
func guardedControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &blockedError{why: "not an IP address and port"}
	}
	return CheckTarget(ap.Addr())
}

// newClient returns the dispatcher's HTTP client: no redirects (a redirect
// is a failed attempt), no proxy from the environment (the check must see
// the real target), and, unless allowPrivate, the address guard.
func newClient(timeout time.Duration, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = guardedControl
	}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    timeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Timeout:       timeout,
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
