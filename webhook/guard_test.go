package webhook_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
	"github.com/trendql/trendql/webhook"
)

// TestCheckTarget: every non-public range is refused, in IPv4 and IPv6,
// IPv4-mapped IPv6 included; public unicast addresses pass. No address
// here is dialled.
func TestCheckTarget(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"169.254.169.254", "169.254.0.1", "0.0.0.0", "0.1.2.3", "100.64.0.1", "224.0.0.1",
		"239.255.255.250", "255.255.255.255", "240.0.0.1", "198.18.0.1", "192.0.0.8",
		"::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "ff05::2", "fec0::1",
		"::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::ffff:0.0.0.0",
		"64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "2001:0:4136:e378::1",
	}
	for _, s := range refused {
		if err := webhook.CheckTarget(netip.MustParseAddr(s)); err == nil {
			t.Errorf("%s: allowed", s)
		} else if !strings.Contains(err.Error(), "--webhook-allow-private") {
			t.Errorf("%s: %v does not say how to allow it", s, err)
		}
	}
	for _, s := range []string{"93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:93.184.216.34"} {
		if err := webhook.CheckTarget(netip.MustParseAddr(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

// TestDispatch_RefusesPrivateTargetsByDefault is the repro of issue 11
// item 13: without AllowPrivateTargets, a webhook aimed at the loopback
// interface (by address, by a name that resolves to it, or as an
// IPv4-mapped IPv6 address) never reaches it; the attempt fails at
// connect time, before any byte is sent.
func TestDispatch_RefusesPrivateTargetsByDefault(t *testing.T) {
	d := openDB(t, dbtest.NewDSN(t))
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(rc.URL, "http://"))
	urls := []string{
		rc.URL,
		"http://localhost:" + port + "/hook",
		"http://[::ffff:127.0.0.1]:" + port + "/hook",
	}
	var hooks []*db.Webhook
	for _, u := range urls {
		hooks = append(hooks, hook(t, d, u, db.WebhookInput{}))
	}
	w := webhook.New(webhook.Options{DB: d, MaxAttempts: 1}) // the default: private targets refused
	w.Start()
	t.Cleanup(func() { w.Shutdown(context.Background()) })
	company(t, d, "Guarded")
	eventually(t, "every delivery to be given up", func() bool {
		for _, h := range hooks {
			dels, _ := deliveries(t, d, h.ID)
			if len(dels) != 1 || dels[0].Status != db.DeliveryDead {
				return false
			}
		}
		return true
	})
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}
	for i, h := range hooks {
		dels, _ := deliveries(t, d, h.ID)
		if e := dels[0].LastError; e == nil || !strings.Contains(*e, "refused to connect") || dels[0].LastStatusCode != nil {
			t.Errorf("%s: delivery %s", urls[i], show(dels[0]))
		}
	}
}

// TestDelivery_LastErrorIsTheStatusLineOnly: a failing target's body and
// reason phrase are its own words and are never stored; a redirect is not
// followed (to a private target or any other).
func TestDelivery_LastErrorIsTheStatusLineOnly(t *testing.T) {
	d := openDB(t, dbtest.NewDSN(t))
	// A raw server, to send a reason phrase of its own.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				req.Body.Close()
				body := "root:x:0:0:secret-from-internal-service"
				c.Write([]byte("HTTP/1.1 500 password=hunter2\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
					itoa(len(body)) + "\r\n\r\n" + body))
			}()
		}
	}()
	inner := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	redirect := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/admin?leak=1", http.StatusFound)
	})
	loud := hook(t, d, "http://"+ln.Addr().String()+"/hook", db.WebhookInput{})
	moved := hook(t, d, redirect.URL, db.WebhookInput{})
	start(t, d, webhook.Options{MaxAttempts: 1})
	company(t, d, "Loud")
	eventually(t, "both deliveries to be given up", func() bool {
		a, _ := deliveries(t, d, loud.ID)
		b, _ := deliveries(t, d, moved.ID)
		return len(a) == 1 && a[0].Status == db.DeliveryDead && len(b) == 1 && b[0].Status == db.DeliveryDead
	})
	dels, attempts := deliveries(t, d, loud.ID)
	x := dels[0]
	if x.LastError == nil || *x.LastError != "HTTP 500 Internal Server Error" || x.LastStatusCode == nil || *x.LastStatusCode != 500 {
		t.Errorf("delivery %s", show(x))
	}
	if as := attempts[x.ID]; len(as) != 1 || as[0].Error == nil || *as[0].Error != "HTTP 500 Internal Server Error" {
		t.Errorf("attempts %s", show(as))
	}
	dels, _ = deliveries(t, d, moved.ID)
	if x := dels[0]; x.LastError == nil || *x.LastError != "HTTP 302 Found" {
		t.Errorf("redirected delivery %s", show(x))
	}
	if n := len(inner.requests()); n != 0 {
		t.Errorf("the redirect was followed: %d requests", n)
	}
}

func itoa(n int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

// TestDelivery_ErrorsDoNotEchoTheTarget: a target that answers something
// other than HTTP (an SSH or SMTP banner, say) must not see its bytes
// stored as the error, any more than an HTTP body.
func TestDelivery_ErrorsDoNotEchoTheTarget(t *testing.T) {
	d := openDB(t, dbtest.NewDSN(t))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				c.Write([]byte("SSH-2.0-OpenSSH_internal-db-7 secret-banner\r\n"))
				bufio.NewReader(c).ReadString('\n')
			}()
		}
	}()
	h := hook(t, d, "http://"+ln.Addr().String()+"/hook", db.WebhookInput{})
	start(t, d, webhook.Options{MaxAttempts: 1})
	company(t, d, "Banner")
	eventually(t, "the delivery to be given up", func() bool {
		x, _ := deliveries(t, d, h.ID)
		return len(x) == 1 && x[0].Status == db.DeliveryDead
	})
	dels, attempts := deliveries(t, d, h.ID)
	x := dels[0]
	if x.LastError == nil || strings.Contains(*x.LastError, "banner") || strings.Contains(*x.LastError, "SSH") ||
		*x.LastError != "malformed HTTP response" {
		t.Errorf("delivery %s", show(x))
	}
	if as := attempts[x.ID]; len(as) != 1 || as[0].Error == nil || strings.Contains(*as[0].Error, "banner") {
		t.Errorf("attempts %s", show(as))
	}
}
